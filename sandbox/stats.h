// Descriptive statistics and a least-squares line over plain numbers; the stats library and df:describe() use
// these. Every function throws std::invalid_argument when it is given too few values.
#pragma once

#include <cstddef>
#include <vector>

namespace agentrt::sandbox::stats {

double sum(const std::vector<double>& v);
double mean(const std::vector<double>& v);
double median(std::vector<double> v);
// Sample variance and standard deviation (divisor n - 1); need two values.
double variance(const std::vector<double>& v);
double stddev(const std::vector<double>& v);
double min(const std::vector<double>& v);
double max(const std::vector<double>& v);
// Linear interpolation between order statistics (R type 7, numpy's default); q in [0, 1].
double quantile(std::vector<double> v, double q);
// Pearson correlation of two equally long samples.
double correlation(const std::vector<double>& x, const std::vector<double>& y);

struct LinearFit {
  double slope = 0;
  double intercept = 0;
  double r2 = 0;
  std::size_t n = 0;
};
LinearFit linear_regression(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace agentrt::sandbox::stats
