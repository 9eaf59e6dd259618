// chart: chart.line, chart.bar, chart.scatter, chart.histogram, chart.pie. Each takes one options table,
// writes an SVG (and a PNG with png = true, or only a PNG when file ends in .png) into the workspace and
// returns a short text summary of what the picture shows.
#include <stdexcept>

#include "sandbox/frame_binding.h"
#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"
#include "sandbox/session_state.h"
#include "sandbox/svg_chart.h"

namespace agentrt::sandbox {
namespace {

constexpr int kOpts = 1;

// Option `key`: an array of numbers, or (with data = frame) the name of a numeric column.
std::vector<double> numbers_option(lua_State* L, const char* key, const DataFrame* frame, bool required) {
  lua_getfield(L, kOpts, key);
  std::vector<double> out;
  if (lua_type(L, -1) == LUA_TSTRING) {
    if (frame == nullptr) {
      lua_pop(L, 1);
      throw std::invalid_argument(std::string("option '") + key +
                                  "' names a column: give data = <data frame> too");
    }
    out = frame->numbers(lua_tostring(L, -1));
  } else if (lua_type(L, -1) == LUA_TTABLE) {
    out = number_array(L, -1, key);
  } else if (required || !lua_isnil(L, -1)) {
    lua_pop(L, 1);
    throw std::invalid_argument(std::string("option '") + key + "' must be an array of numbers" +
                                (frame ? " or a column name" : ""));
  }
  lua_pop(L, 1);
  return out;
}

std::vector<std::string> labels_option(lua_State* L, const char* key, const DataFrame* frame) {
  lua_getfield(L, kOpts, key);
  std::vector<std::string> out;
  if (lua_type(L, -1) == LUA_TSTRING && frame != nullptr) {
    for (const auto& v : frame->column(lua_tostring(L, -1)).values) out.push_back(value_text(v));
  } else if (lua_type(L, -1) == LUA_TTABLE) {
    out = string_array(L, -1, key);
  } else if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    throw std::invalid_argument(std::string("option '") + key + "' must be an array of labels");
  }
  lua_pop(L, 1);
  return out;
}

bool has_option(lua_State* L, const char* key) {
  const bool present = lua_getfield(L, kOpts, key) != LUA_TNIL;
  lua_pop(L, 1);
  return present;
}

const DataFrame* data_option(lua_State* L) {
  lua_getfield(L, kOpts, "data");
  const DataFrame* frame = nullptr;
  if (!lua_isnil(L, -1)) {
    frame = to_frame(L, -1);
    if (frame == nullptr) throw std::invalid_argument("option 'data' must be a data frame");
  }
  lua_pop(L, 1);  // the frame stays alive: the options table holds it
  return frame;
}

void xy_series(lua_State* L, ChartSpec& spec, const DataFrame* frame) {
  lua_getfield(L, kOpts, "series");
  if (lua_type(L, -1) == LUA_TTABLE) {
    const int list = lua_gettop(L);
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, list));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, list, i);
      const int s = lua_gettop(L);
      if (!lua_istable(L, s))
        throw std::invalid_argument("each entry of 'series' must be a table {name, x, y}");
      ChartSeries series;
      series.name = string_field(L, s, "name", "");
      lua_getfield(L, s, "y");
      series.y = number_array(L, -1, "series y");
      lua_pop(L, 1);
      lua_getfield(L, s, "x");
      if (!lua_isnil(L, -1)) series.x = number_array(L, -1, "series x");
      lua_pop(L, 2);
      spec.series.push_back(std::move(series));
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  const std::vector<double> x = numbers_option(L, "x", frame, false);
  lua_getfield(L, kOpts, "y");
  if (lua_type(L, -1) == LUA_TTABLE && frame != nullptr && lua_rawlen(L, -1) > 0) {
    lua_rawgeti(L, -1, 1);
    const bool names = lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 1);
    if (names) {
      for (const auto& column : string_array(L, -1, "y"))
        spec.series.push_back({column, x, frame->numbers(column)});
      lua_pop(L, 1);
      return;
    }
  }
  std::string name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  lua_pop(L, 1);
  spec.series.push_back({name, x, numbers_option(L, "y", frame, true)});
}

int draw(lua_State* L, ChartKind kind) {
  luaL_checktype(L, kOpts, LUA_TTABLE);
  SessionState& s = session_of(L);
  ChartSpec spec;
  spec.kind = kind;
  spec.title = string_field(L, kOpts, "title", "");
  spec.xlabel = string_field(L, kOpts, "xlabel", "");
  spec.ylabel = string_field(L, kOpts, "ylabel", "");
  spec.width = static_cast<int>(number_field(L, kOpts, "width", 640));
  spec.height = static_cast<int>(number_field(L, kOpts, "height", 400));
  const DataFrame* frame = data_option(L);
  switch (kind) {
    case ChartKind::Line:
    case ChartKind::Scatter:
      xy_series(L, spec, frame);
      break;
    case ChartKind::Bar:
    case ChartKind::Pie: {
      spec.labels = labels_option(L, has_option(L, "labels") ? "labels" : "x", frame);
      spec.values = numbers_option(L, has_option(L, "values") ? "values" : "y", frame, true);
      break;
    }
    case ChartKind::Histogram:
      spec.values = numbers_option(
          L, has_option(L, "values") ? "values" : (has_option(L, "column") ? "column" : "x"), frame, true);
      spec.bins = static_cast<int>(number_field(L, kOpts, "bins", 10));
      break;
  }
  const RenderedChart chart = render_chart(spec);

  std::string file = string_field(L, kOpts, "file", "");
  if (file.empty()) file = "chart_" + std::to_string(++s.chart_counter) + ".svg";
  const auto dot = file.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : file.substr(dot);
  const std::string stem = dot == std::string::npos ? file : file.substr(0, dot);
  const bool png_only = ext == ".png";
  const bool svg_name_ok = ext == ".svg" || png_only;
  if (!svg_name_ok) file = stem + ".svg";
  const bool want_png = png_only || bool_field(L, kOpts, "png", false);
  std::string saved;
  if (!png_only) {
    s.workspace.write(file, chart.svg, chart.summary);
    saved = file;
  }
  if (want_png) {
    const std::string png_name = stem + ".png";
    s.workspace.write(png_name, svg_to_png(chart.svg), chart.summary);
    saved += (saved.empty() ? "" : " and ") + png_name;
  }
  const std::string text = chart.summary + ". Saved as " + saved + ".";
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int c_line(lua_State* L) {
  return draw(L, ChartKind::Line);
}
int c_bar(lua_State* L) {
  return draw(L, ChartKind::Bar);
}
int c_scatter(lua_State* L) {
  return draw(L, ChartKind::Scatter);
}
int c_histogram(lua_State* L) {
  return draw(L, ChartKind::Histogram);
}
int c_pie(lua_State* L) {
  return draw(L, ChartKind::Pie);
}

}  // namespace

int open_chart(lua_State* L) {
  const luaL_Reg functions[] = {{"line", guarded<c_line>},       {"bar", guarded<c_bar>},
                                {"scatter", guarded<c_scatter>}, {"histogram", guarded<c_histogram>},
                                {"pie", guarded<c_pie>},         {nullptr, nullptr}};
  new_library(L, functions);
  return 1;
}

}  // namespace agentrt::sandbox
