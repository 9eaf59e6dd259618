#include "sandbox/stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace agentrt::sandbox::stats {
namespace {
void need(const std::vector<double>& v, std::size_t n, const char* what) {
  if (v.size() < n) {
    throw std::invalid_argument(std::string(what) + " needs at least " + std::to_string(n) +
                                (n == 1 ? " value" : " values") + ", got " + std::to_string(v.size()));
  }
}
void same_length(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  if (x.size() != y.size()) {
    throw std::invalid_argument(std::string(what) + ": x has " + std::to_string(x.size()) +
                                " values but y has " + std::to_string(y.size()));
  }
}
}  // namespace

double sum(const std::vector<double>& v) {
  // Kahan summation: the describe() of a large column should not depend on the order of rounding.
  double s = 0;
  double c = 0;
  for (double x : v) {
    const double y = x - c;
    const double t = s + y;
    c = (t - s) - y;
    s = t;
  }
  return s;
}

double mean(const std::vector<double>& v) {
  need(v, 1, "mean");
  return sum(v) / static_cast<double>(v.size());
}

double median(std::vector<double> v) {
  need(v, 1, "median");
  return quantile(std::move(v), 0.5);
}

double variance(const std::vector<double>& v) {
  need(v, 2, "variance");
  const double m = mean(v);
  double acc = 0;
  for (double x : v) acc += (x - m) * (x - m);
  return acc / static_cast<double>(v.size() - 1);
}

double stddev(const std::vector<double>& v) {
  return std::sqrt(variance(v));
}

double min(const std::vector<double>& v) {
  need(v, 1, "min");
  return *std::min_element(v.begin(), v.end());
}

double max(const std::vector<double>& v) {
  need(v, 1, "max");
  return *std::max_element(v.begin(), v.end());
}

double quantile(std::vector<double> v, double q) {
  need(v, 1, "quantile");
  if (!(q >= 0 && q <= 1)) throw std::invalid_argument("quantile: q must be between 0 and 1");
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (b - a) * (pos - static_cast<double>(lo));
}

namespace {

// Sums of the products of deviations from the means, the terms of correlation and regression.
struct CenteredSums {
  double mx = 0, my = 0;
  double sxy = 0, sxx = 0, syy = 0;
};

CenteredSums centered_sums(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  same_length(x, y, what);
  need(x, 2, what);
  CenteredSums s;
  s.mx = mean(x);
  s.my = mean(y);
  for (std::size_t i = 0; i < x.size(); ++i) {
    s.sxy += (x[i] - s.mx) * (y[i] - s.my);
    s.sxx += (x[i] - s.mx) * (x[i] - s.mx);
    s.syy += (y[i] - s.my) * (y[i] - s.my);
  }
  return s;
}

}  // namespace

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const CenteredSums s = centered_sums(x, y, "corr");
  if (s.sxx == 0 || s.syy == 0) throw std::invalid_argument("corr: one of the samples is constant");
  return s.sxy / std::sqrt(s.sxx * s.syy);
}

LinearFit linear_regression(const std::vector<double>& x, const std::vector<double>& y) {
  const CenteredSums s = centered_sums(x, y, "linreg");
  if (s.sxx == 0) throw std::invalid_argument("linreg: all x values are equal");
  LinearFit fit;
  fit.slope = s.sxy / s.sxx;
  fit.intercept = s.my - fit.slope * s.mx;
  fit.r2 = s.syy == 0 ? 1.0 : (s.sxy * s.sxy) / (s.sxx * s.syy);
  fit.n = x.size();
  return fit;
}

}  // namespace agentrt::sandbox::stats
