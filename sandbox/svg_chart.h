// Charts as SVG text with deterministic bytes (fixed layout, fixed number formatting, no timestamps or ids),
// each with a short summary in words for a model that cannot see the picture.
#pragma once

#include <string>
#include <vector>

namespace agentrt::sandbox {

enum class ChartKind { Line, Bar, Scatter, Histogram, Pie };
const char* to_string(ChartKind kind);

struct ChartSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

struct ChartSpec {
  ChartKind kind = ChartKind::Line;
  std::string title;
  std::string xlabel;
  std::string ylabel;
  std::vector<ChartSeries> series;  // line, scatter
  std::vector<std::string> labels;  // bar, pie: one per value
  std::vector<double> values;       // bar, pie: the values; histogram: the sample
  int bins = 10;                    // histogram
  int width = 640;
  int height = 400;
};

struct RenderedChart {
  std::string svg;
  std::string summary;
};

// Throws std::invalid_argument for data it cannot draw (no points, NaN, lengths that differ, negative pie
// slices).
RenderedChart render_chart(const ChartSpec& spec);

// Rasterises SVG text to PNG bytes at the SVG's own size (librsvg + cairo); throws std::runtime_error on
// failure.
std::string svg_to_png(const std::string& svg);

}  // namespace agentrt::sandbox
