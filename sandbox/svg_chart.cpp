#include "sandbox/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "sandbox/lua_util.h"
#include "sandbox/stats.h"

namespace agentrt::sandbox {
namespace {

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                    "#59a14f", "#edc948", "#b07aa1", "#ff9da7"};
constexpr std::size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr std::size_t kMaxPoints = 200000;

const char* color(std::size_t i) {
  return kPalette[i % kPaletteSize];
}

// Coordinates with two decimals, "-0.00" written as "0.00": identical input gives identical bytes.
std::string num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s == "-0.00") s = "0.00";
  return s;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') break;
        out += c;
    }
  }
  return out;
}

std::string shorten(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

// The text for a value in a summary: integers plainly, others with up to 4 significant decimals.
std::string say(double v) {
  if (std::fabs(v) < 1e15 && v == std::floor(v)) return format_number(v);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

struct Axis {
  double lo = 0;
  double hi = 1;
  double step = 0.2;
};

// A range widened to round tick values, about five ticks across.
Axis nice_axis(double lo, double hi) {
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// How many steps an axis spans (capped: extreme ranges lose ticks, never hang).
int ticks(const Axis& a) {
  const double n = std::round((a.hi - a.lo) / a.step);
  return n > 0 && n < 50 ? static_cast<int>(n) : 1;
}

std::string tick_label(double v, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6), v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos) s = decimals > 0 ? s.substr(s[0] == '-' ? 1 : 0) : "0";
  return s;
}

void check_finite(const std::vector<double>& v, const char* what) {
  for (double x : v) {
    if (!std::isfinite(x))
      throw std::invalid_argument(std::string(what) + " contains a value that is not finite");
  }
  if (v.size() > kMaxPoints) throw std::invalid_argument(std::string(what) + " has too many points");
}

class Canvas {
 public:
  explicit Canvas(const ChartSpec& spec) : spec_(spec) {
    w_ = std::clamp(spec.width, 200, 2000);
    h_ = std::clamp(spec.height, 150, 2000);
    out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(w_) + "\" height=\"" +
            std::to_string(h_) + "\" viewBox=\"0 0 " + std::to_string(w_) + " " + std::to_string(h_) +
            "\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n";
    out_ += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    if (!spec.title.empty()) {
      text(w_ / 2.0, 24, spec.title, "middle", "font-size=\"16\" font-weight=\"bold\"");
    }
  }

  int width() const { return w_; }
  int height() const { return h_; }

  void text(double x, double y, const std::string& t, const char* anchor, const std::string& extra = "") {
    out_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"" +
            (extra.empty() ? "" : " " + extra) + ">" + escape(t) + "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* stroke, double width = 1) {
    out_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) +
            "\" stroke=\"" + stroke + "\" stroke-width=\"" + num(width) + "\"/>\n";
  }
  void rect(double x, double y, double w, double h, const char* fill) {
    out_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
            "\" fill=\"" + fill + "\"/>\n";
  }
  void circle(double x, double y, double r, const char* fill) {
    out_ +=
        "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\" fill=\"" + fill + "\"/>\n";
  }
  void raw(const std::string& s) { out_ += s; }

  // The plot area: left, top, right, bottom.
  double left = 64, top = 40, right = 0, bottom = 0;

  void set_area(bool legend) {
    right = w_ - (legend ? 140.0 : 20.0);
    bottom = h_ - 52.0;
  }

  // Draws axes, grid and tick labels for numeric x and y ranges.
  void axes(const Axis& xa, const Axis* xticks, const Axis& ya) {
    for (int k = 0; k <= ticks(ya); ++k) {
      const double v = ya.lo + ya.step * k;
      const double y = sy(v, ya);
      line(left, y, right, y, "#e0e0e0");
      text(left - 6, y + 4, tick_label(v, ya.step), "end");
    }
    if (xticks != nullptr) {
      for (int k = 0; k <= ticks(xa); ++k) {
        const double v = xa.lo + xa.step * k;
        const double x = sx(v, xa);
        line(x, bottom, x, bottom + 4, "#333333");
        text(x, bottom + 18, tick_label(v, xa.step), "middle");
      }
    }
    line(left, bottom, right, bottom, "#333333");
    line(left, top, left, bottom, "#333333");
    if (!spec_.xlabel.empty()) text((left + right) / 2, h_ - 10.0, spec_.xlabel, "middle");
    if (!spec_.ylabel.empty()) {
      const std::string at = num(16) + "," + num((top + bottom) / 2);
      text(16, (top + bottom) / 2, spec_.ylabel, "middle", "transform=\"rotate(-90 " + at + ")\"");
    }
  }

  void legend(const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size() && i < 20; ++i) {
      const double y = top + 8 + 18.0 * static_cast<double>(i);
      rect(right + 16, y - 9, 10, 10, color(i));
      text(right + 32, y, shorten(names[i], 16), "start");
    }
  }

  double sx(double v, const Axis& a) const { return left + (v - a.lo) / (a.hi - a.lo) * (right - left); }
  double sy(double v, const Axis& a) const { return bottom - (v - a.lo) / (a.hi - a.lo) * (bottom - top); }

  std::string finish() { return out_ + "</svg>\n"; }

 private:
  const ChartSpec& spec_;
  int w_ = 640;
  int h_ = 400;
  std::string out_;
};

std::string quoted_title(const ChartSpec& spec) {
  return spec.title.empty() ? "" : " \"" + shorten(spec.title, 60) + "\"";
}

RenderedChart xy_chart(const ChartSpec& spec) {
  const bool line = spec.kind == ChartKind::Line;
  if (spec.series.empty()) throw std::invalid_argument("no data: give y values (or series)");
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  std::vector<ChartSeries> series = spec.series;
  for (auto& s : series) {
    if (s.y.empty()) throw std::invalid_argument("series '" + s.name + "' has no y values");
    if (s.x.empty()) {
      for (std::size_t i = 0; i < s.y.size(); ++i) s.x.push_back(static_cast<double>(i + 1));
    }
    if (s.x.size() != s.y.size()) {
      throw std::invalid_argument("series '" + s.name + "': " + std::to_string(s.x.size()) +
                                  " x values but " + std::to_string(s.y.size()) + " y values");
    }
    check_finite(s.x, "x");
    check_finite(s.y, "y");
    xlo = std::min(xlo, *std::min_element(s.x.begin(), s.x.end()));
    xhi = std::max(xhi, *std::max_element(s.x.begin(), s.x.end()));
    ylo = std::min(ylo, *std::min_element(s.y.begin(), s.y.end()));
    yhi = std::max(yhi, *std::max_element(s.y.begin(), s.y.end()));
  }
  Canvas c(spec);
  const bool legend = series.size() > 1;
  c.set_area(legend);
  const Axis xa = nice_axis(xlo, xhi);
  const Axis ya = nice_axis(ylo, yhi);
  c.axes(xa, &xa, ya);
  std::vector<std::string> names;
  std::string summary = std::string(line ? "line chart" : "scatter chart") + quoted_title(spec) + ": " +
                        std::to_string(series.size()) + (series.size() == 1 ? " series" : " series");
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    names.push_back(s.name.empty() ? "series " + std::to_string(i + 1) : s.name);
    if (line) {
      std::vector<std::size_t> order(s.x.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
      std::string points;
      for (std::size_t k : order)
        points += (points.empty() ? "" : " ") + num(c.sx(s.x[k], xa)) + "," + num(c.sy(s.y[k], ya));
      c.raw("<polyline fill=\"none\" stroke=\"" + std::string(color(i)) + "\" stroke-width=\"2\" points=\"" +
            points + "\"/>\n");
      if (s.x.size() <= 50) {
        for (std::size_t k : order) c.circle(c.sx(s.x[k], xa), c.sy(s.y[k], ya), 2.5, color(i));
      }
    } else {
      for (std::size_t k = 0; k < s.x.size(); ++k) c.circle(c.sx(s.x[k], xa), c.sy(s.y[k], ya), 3, color(i));
    }
    const auto lo = std::min_element(s.y.begin(), s.y.end()) - s.y.begin();
    const auto hi = std::max_element(s.y.begin(), s.y.end()) - s.y.begin();
    summary += std::string(i == 0 ? " (" : "; (") + names.back() + ": " + std::to_string(s.y.size()) +
               " points, y from " + say(s.y[lo]) + " at x=" + say(s.x[lo]) + " to " + say(s.y[hi]) +
               " at x=" + say(s.x[hi]);
    if (line && s.y.size() >= 2) {
      std::vector<std::size_t> order(s.x.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
      summary += ", first " + say(s.y[order.front()]) + ", last " + say(s.y[order.back()]);
    }
    if (!line && s.x.size() >= 2) {
      try {
        summary += ", correlation " + say(stats::correlation(s.x, s.y));
      } catch (const std::invalid_argument&) {
      }
    }
    summary += ")";
  }
  summary += "; x from " + say(xlo) + " to " + say(xhi);
  if (legend) c.legend(names);
  return {c.finish(), summary};
}

RenderedChart bar_chart(const ChartSpec& spec) {
  if (spec.values.empty()) throw std::invalid_argument("no data: give values (and labels)");
  if (!spec.labels.empty() && spec.labels.size() != spec.values.size()) {
    throw std::invalid_argument(std::to_string(spec.labels.size()) + " labels but " +
                                std::to_string(spec.values.size()) + " values");
  }
  check_finite(spec.values, "values");
  std::vector<std::string> labels = spec.labels;
  for (std::size_t i = labels.size(); i < spec.values.size(); ++i) labels.push_back(std::to_string(i + 1));
  Canvas c(spec);
  c.set_area(false);
  const double lo = std::min(0.0, *std::min_element(spec.values.begin(), spec.values.end()));
  const double hi = std::max(0.0, *std::max_element(spec.values.begin(), spec.values.end()));
  const Axis ya = nice_axis(lo, hi);
  c.axes(ya, nullptr, ya);
  const double slot = (c.right - c.left) / static_cast<double>(spec.values.size());
  const std::size_t every = std::max<std::size_t>(1, spec.values.size() / 20);
  for (std::size_t i = 0; i < spec.values.size(); ++i) {
    const double y0 = c.sy(0, ya);
    const double y1 = c.sy(spec.values[i], ya);
    c.rect(c.left + slot * (static_cast<double>(i) + 0.1), std::min(y0, y1), slot * 0.8, std::fabs(y0 - y1),
           color(0));
    if (i % every == 0)
      c.text(c.left + slot * (static_cast<double>(i) + 0.5), c.bottom + 16, shorten(labels[i], 12), "middle");
  }
  const auto hi_i = std::max_element(spec.values.begin(), spec.values.end()) - spec.values.begin();
  const auto lo_i = std::min_element(spec.values.begin(), spec.values.end()) - spec.values.begin();
  std::string summary = "bar chart" + quoted_title(spec) + ": " + std::to_string(spec.values.size()) +
                        " bars; highest '" + labels[hi_i] + "' = " + say(spec.values[hi_i]) + ", lowest '" +
                        labels[lo_i] + "' = " + say(spec.values[lo_i]) + ", total " +
                        say(stats::sum(spec.values));
  return {c.finish(), summary};
}

RenderedChart histogram_chart(const ChartSpec& spec) {
  if (spec.values.empty()) throw std::invalid_argument("no data: give values");
  check_finite(spec.values, "values");
  const int bins = std::clamp(spec.bins, 1, 200);
  const double lo = *std::min_element(spec.values.begin(), spec.values.end());
  double hi = *std::max_element(spec.values.begin(), spec.values.end());
  if (hi == lo) hi = lo + 1;
  const double width = (hi - lo) / bins;
  std::vector<std::size_t> counts(static_cast<std::size_t>(bins));
  for (double v : spec.values) {
    auto b = static_cast<std::size_t>((v - lo) / width);
    if (b >= counts.size()) b = counts.size() - 1;
    ++counts[b];
  }
  Canvas c(spec);
  c.set_area(false);
  const Axis xa = nice_axis(lo, hi);
  const Axis ya = nice_axis(0, static_cast<double>(*std::max_element(counts.begin(), counts.end())));
  c.axes(xa, &xa, ya);
  for (std::size_t b = 0; b < counts.size(); ++b) {
    const double x0 = c.sx(lo + width * static_cast<double>(b), xa);
    const double x1 = c.sx(lo + width * static_cast<double>(b + 1), xa);
    const double y1 = c.sy(static_cast<double>(counts[b]), ya);
    c.rect(x0, y1, std::max(0.0, x1 - x0 - 1), c.sy(0, ya) - y1, color(0));
  }
  const auto top = std::max_element(counts.begin(), counts.end()) - counts.begin();
  std::string summary = "histogram" + quoted_title(spec) + ": " + std::to_string(spec.values.size()) +
                        " values in " + std::to_string(bins) + " bins from " + say(lo) + " to " + say(hi) +
                        "; tallest bin " + say(lo + width * static_cast<double>(top)) + " to " +
                        say(lo + width * static_cast<double>(top + 1)) + " with " +
                        std::to_string(counts[top]) + " values; mean " + say(stats::mean(spec.values)) +
                        ", median " + say(stats::median(spec.values));
  return {c.finish(), summary};
}

RenderedChart pie_chart(const ChartSpec& spec) {
  if (spec.values.empty()) throw std::invalid_argument("no data: give values (and labels)");
  if (!spec.labels.empty() && spec.labels.size() != spec.values.size()) {
    throw std::invalid_argument(std::to_string(spec.labels.size()) + " labels but " +
                                std::to_string(spec.values.size()) + " values");
  }
  check_finite(spec.values, "values");
  for (double v : spec.values) {
    if (v < 0) throw std::invalid_argument("a pie chart cannot show negative values");
  }
  const double total = stats::sum(spec.values);
  if (total <= 0) throw std::invalid_argument("a pie chart needs a positive total");
  std::vector<std::string> labels = spec.labels;
  for (std::size_t i = labels.size(); i < spec.values.size(); ++i) labels.push_back(std::to_string(i + 1));
  Canvas c(spec);
  c.set_area(true);
  const double cx = (c.left + c.right) / 2 - 20;
  const double cy = (c.top + c.bottom) / 2 + 10;
  const double r = std::min(c.right - c.left, c.bottom - c.top) / 2;
  double angle = -M_PI / 2;
  std::string summary =
      "pie chart" + quoted_title(spec) + ": " + std::to_string(spec.values.size()) + " slices;";
  for (std::size_t i = 0; i < spec.values.size(); ++i) {
    const double share = spec.values[i] / total;
    const double next = angle + share * 2 * M_PI;
    if (share >= 0.999999) {
      c.circle(cx, cy, r, color(i));
    } else if (share > 0) {
      c.raw("<path d=\"M " + num(cx) + " " + num(cy) + " L " + num(cx + r * std::cos(angle)) + " " +
            num(cy + r * std::sin(angle)) + " A " + num(r) + " " + num(r) + " 0 " +
            (share > 0.5 ? "1" : "0") + " 1 " + num(cx + r * std::cos(next)) + " " +
            num(cy + r * std::sin(next)) + " Z\" fill=\"" + color(i) +
            "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n");
    }
    angle = next;
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", share * 100);
    labels[i] = labels[i] + " " + pct;
    if (i < 12) summary += std::string(i ? ", " : " ") + labels[i];
  }
  if (spec.values.size() > 12) summary += ", ...";
  c.legend(labels);
  return {c.finish(), summary};
}

}  // namespace

const char* to_string(ChartKind kind) {
  switch (kind) {
    case ChartKind::Line:
      return "line";
    case ChartKind::Bar:
      return "bar";
    case ChartKind::Scatter:
      return "scatter";
    case ChartKind::Histogram:
      return "histogram";
    case ChartKind::Pie:
      return "pie";
  }
  return "chart";
}

RenderedChart render_chart(const ChartSpec& spec) {
  switch (spec.kind) {
    case ChartKind::Line:
    case ChartKind::Scatter:
      return xy_chart(spec);
    case ChartKind::Bar:
      return bar_chart(spec);
    case ChartKind::Histogram:
      return histogram_chart(spec);
    case ChartKind::Pie:
      return pie_chart(spec);
  }
  throw std::invalid_argument("unknown chart kind");
}

}  // namespace agentrt::sandbox
