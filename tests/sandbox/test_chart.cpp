// Charts: golden SVG bytes per chart type (tests/sandbox/golden/; set AGENTRT_UPDATE_GOLDEN=1 to rewrite them
// after an intended change), summaries a model can read, PNG output that decodes, and bad data refused.
#include <cairo.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sandbox/interpreter.h"
#include "sandbox/svg_chart.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

ChartSpec spec_of(ChartKind kind) {
  ChartSpec s;
  s.kind = kind;
  s.title = "Monthly sales <2024>";
  s.xlabel = "month";
  s.ylabel = "units";
  switch (kind) {
    case ChartKind::Line:
      s.series = {{"north", {1, 2, 3, 4, 5, 6}, {3, 5, 4, 8, 7, 9.5}},
                  {"south", {1, 2, 3, 4, 5, 6}, {2, 2.5, 3, 3, 4, 6}}};
      break;
    case ChartKind::Scatter:
      s.series = {{"", {1, 2, 3, 4, 5, 6, 7}, {1.1, 1.9, 3.2, 3.8, 5.1, 6.2, 6.8}}};
      break;
    case ChartKind::Bar:
    case ChartKind::Pie:
      s.labels = {"apples", "pears", "plums", "figs"};
      s.values = {40, 25, 20, 15};
      break;
    case ChartKind::Histogram:
      s.values = {1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7, 9.5};
      s.bins = 5;
      break;
  }
  return s;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GoldenChart : public ::testing::TestWithParam<ChartKind> {};

TEST_P(GoldenChart, SvgBytesMatchTheGoldenFileAndAreDeterministic) {
  const ChartSpec spec = spec_of(GetParam());
  const RenderedChart a = render_chart(spec);
  const RenderedChart b = render_chart(spec);
  EXPECT_EQ(a.svg, b.svg);
  const auto golden = std::filesystem::path(AGENTRT_SOURCE_DIR) / "tests" / "sandbox" / "golden" /
                      (std::string(to_string(GetParam())) + ".svg");
  if (std::getenv("AGENTRT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden, std::ios::binary) << a.svg;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden;
  EXPECT_EQ(a.svg, read_file(golden));
  EXPECT_NE(a.svg.find("Monthly sales &lt;2024&gt;"), std::string::npos);
}

TEST_P(GoldenChart, PngDecodesAtTheSvgSize) {
  const std::string png = svg_to_png(render_chart(spec_of(GetParam())).svg);
  struct Reader {
    const std::string* data;
    std::size_t pos;
  } reader{&png, 0};
  cairo_surface_t* surface = cairo_image_surface_create_from_png_stream(
      [](void* closure, unsigned char* out, unsigned int length) {
        auto* r = static_cast<Reader*>(closure);
        if (r->pos + length > r->data->size()) return CAIRO_STATUS_READ_ERROR;
        std::memcpy(out, r->data->data() + r->pos, length);
        r->pos += length;
        return CAIRO_STATUS_SUCCESS;
      },
      &reader);
  ASSERT_EQ(cairo_surface_status(surface), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(surface), 640);
  EXPECT_EQ(cairo_image_surface_get_height(surface), 400);
  // Something was drawn: not every pixel is the white background.
  cairo_surface_flush(surface);
  const unsigned char* pixels = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  int coloured = 0;
  for (int y = 0; y < 400; y += 4) {
    for (int x = 0; x < 640; x += 4) {
      const unsigned char* p = pixels + y * stride + x * 4;
      if (!(p[0] == 255 && p[1] == 255 && p[2] == 255)) ++coloured;
    }
  }
  EXPECT_GT(coloured, 100);
  cairo_surface_destroy(surface);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, GoldenChart,
                         ::testing::Values(ChartKind::Line, ChartKind::Bar, ChartKind::Scatter,
                                           ChartKind::Histogram, ChartKind::Pie),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(ChartSummary, SaysWhatThePictureShows) {
  EXPECT_EQ(
      render_chart(spec_of(ChartKind::Bar)).summary,
      "bar chart \"Monthly sales <2024>\": 4 bars; highest 'apples' = 40, lowest 'figs' = 15, total 100");
  EXPECT_EQ(
      render_chart(spec_of(ChartKind::Pie)).summary,
      "pie chart \"Monthly sales <2024>\": 4 slices; apples 40.0%, pears 25.0%, plums 20.0%, figs 15.0%");
  const std::string line = render_chart(spec_of(ChartKind::Line)).summary;
  EXPECT_NE(line.find("2 series"), std::string::npos) << line;
  EXPECT_NE(line.find("north: 6 points, y from 3 at x=1 to 9.5 at x=6"), std::string::npos) << line;
  const std::string hist = render_chart(spec_of(ChartKind::Histogram)).summary;
  EXPECT_NE(hist.find("17 values in 5 bins from 1 to 9.5"), std::string::npos) << hist;
  EXPECT_NE(render_chart(spec_of(ChartKind::Scatter)).summary.find("correlation 0.99"), std::string::npos);
}

TEST(ChartSummary, BadDataIsRefused) {
  ChartSpec s = spec_of(ChartKind::Pie);
  s.values[0] = -1;
  EXPECT_THROW(render_chart(s), std::invalid_argument);
  s = spec_of(ChartKind::Line);
  s.series[0].y.pop_back();
  EXPECT_THROW(render_chart(s), std::invalid_argument);
  s = spec_of(ChartKind::Bar);
  s.values.clear();
  EXPECT_THROW(render_chart(s), std::invalid_argument);
  s = spec_of(ChartKind::Scatter);
  s.series[0].y[0] = std::nan("");
  EXPECT_THROW(render_chart(s), std::invalid_argument);
}

TEST(ChartLua, EveryChartCallWritesFilesAndReturnsItsSummary) {
  testing::TempWorkspace ws;
  Interpreter lua(testing::test_limits(), ws.path());
  ASSERT_TRUE(lua.run_cell("d = df.new({m = {1, 2, 3}, a = {5, 7, 6}, b = {1, 2, 4}}, {'m', 'a', 'b'})").ok);
  const auto line = lua.run_cell("chart.line{data = d, x = 'm', y = {'a', 'b'}, title = 'T'}");
  ASSERT_TRUE(line.ok) << line.error;
  EXPECT_EQ(line.value.rfind("line chart \"T\": 2 series", 0), 0u) << line.value;
  EXPECT_NE(line.value.find("Saved as chart_1.svg."), std::string::npos);
  ASSERT_EQ(line.files.size(), 1u);
  EXPECT_EQ(line.files[0].summary.substr(0, 10), "line chart");
  const auto bar = lua.run_cell("chart.bar{data = d, x = 'm', y = 'a', file = 'bars.png'}");
  ASSERT_TRUE(bar.ok) << bar.error;
  ASSERT_EQ(bar.files.size(), 1u);
  EXPECT_EQ(bar.files[0].path, "bars.png");
  EXPECT_TRUE(lua.run_cell("chart.scatter{x = {1, 2, 3}, y = {3, 1, 2}}").ok);
  EXPECT_TRUE(lua.run_cell("chart.histogram{data = d, column = 'a', bins = 3}").ok);
  EXPECT_TRUE(lua.run_cell("chart.pie{labels = {'x', 'y'}, values = {1, 3}, png = true}").ok);
  const auto bad = lua.run_cell("chart.line{y = 'a'}");
  EXPECT_NE(bad.error.find("names a column"), std::string::npos) << bad.error;
}

}  // namespace
}  // namespace agentrt::sandbox
