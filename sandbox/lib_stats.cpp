// stats: sum, mean, median, var, std, min, max, quantile, corr, linreg. Each takes an array of numbers, or a
// data frame and a column name (missing values skipped).
#include <stdexcept>

#include "sandbox/frame_binding.h"
#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"
#include "sandbox/stats.h"

namespace agentrt::sandbox {
namespace {

// The sample starting at argument `index`: (array) or (frame, column). Sets `next` to the argument after it.
std::vector<double> sample(lua_State* L, int index, const char* what, int& next) {
  if (const DataFrame* f = to_frame(L, index)) {
    next = index + 2;
    return f->numbers(luaL_checkstring(L, index + 1));
  }
  next = index + 1;
  return number_array(L, index, what);
}

template <double (*F)(const std::vector<double>&)>
int unary(lua_State* L) {
  int next = 0;
  lua_pushnumber(L, F(sample(L, 1, "stats", next)));
  return 1;
}

double median_of(const std::vector<double>& v) {
  return stats::median(v);
}

int s_quantile(lua_State* L) {
  int next = 0;
  auto v = sample(L, 1, "stats.quantile", next);
  lua_pushnumber(L, stats::quantile(std::move(v), luaL_checknumber(L, next)));
  return 1;
}

// corr(x, y), corr(frame, "x", "y")
void two_samples(lua_State* L, const char* what, std::vector<double>& x, std::vector<double>& y) {
  if (const DataFrame* f = to_frame(L, 1)) {
    const std::string cx = luaL_checkstring(L, 2);
    const std::string cy = luaL_checkstring(L, 3);
    // Pairs with a value missing on either side are dropped together.
    const Column& a = f->column(cx);
    const Column& b = f->column(cy);
    for (std::size_t r = 0; r < f->rows(); ++r) {
      const auto va = as_number(a.values[r]);
      const auto vb = as_number(b.values[r]);
      if (va && vb) {
        x.push_back(*va);
        y.push_back(*vb);
      }
    }
    return;
  }
  x = number_array(L, 1, what);
  y = number_array(L, 2, what);
}

int s_corr(lua_State* L) {
  std::vector<double> x, y;
  two_samples(L, "stats.corr", x, y);
  lua_pushnumber(L, stats::correlation(x, y));
  return 1;
}

int s_linreg(lua_State* L) {
  std::vector<double> x, y;
  two_samples(L, "stats.linreg", x, y);
  const auto fit = stats::linear_regression(x, y);
  lua_createtable(L, 0, 4);
  lua_pushnumber(L, fit.slope);
  lua_setfield(L, -2, "slope");
  lua_pushnumber(L, fit.intercept);
  lua_setfield(L, -2, "intercept");
  lua_pushnumber(L, fit.r2);
  lua_setfield(L, -2, "r2");
  lua_pushinteger(L, static_cast<lua_Integer>(fit.n));
  lua_setfield(L, -2, "n");
  return 1;
}

}  // namespace

int open_stats(lua_State* L) {
  const luaL_Reg functions[] = {{"sum", guarded<unary<stats::sum>>},
                                {"mean", guarded<unary<stats::mean>>},
                                {"median", guarded<unary<median_of>>},
                                {"var", guarded<unary<stats::variance>>},
                                {"std", guarded<unary<stats::stddev>>},
                                {"min", guarded<unary<stats::min>>},
                                {"max", guarded<unary<stats::max>>},
                                {"quantile", guarded<s_quantile>},
                                {"corr", guarded<s_corr>},
                                {"linreg", guarded<s_linreg>},
                                {nullptr, nullptr}};
  new_library(L, functions);
  return 1;
}

}  // namespace agentrt::sandbox
