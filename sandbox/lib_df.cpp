// df: the data-frame library (df.new, df.from_rows and the frame methods select, filter, mutate, sort, head,
// tail, group_by + agg, describe, join, col, row, rows, columns, nrow, ncol).
#include <algorithm>
#include <map>
#include <stdexcept>

#include "sandbox/frame_binding.h"
#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"

namespace agentrt::sandbox {
namespace {

constexpr const char* kGroupedType = "agentrt.grouped";

// Column names given as varargs from `first`, or as one array.
std::vector<std::string> names_from(lua_State* L, int first, const char* what) {
  if (lua_type(L, first) == LUA_TTABLE) return string_array(L, first, what);
  std::vector<std::string> out;
  for (int i = first; i <= lua_gettop(L); ++i) out.emplace_back(luaL_checkstring(L, i));
  return out;
}

// The grouped frame is a plain table {frame, keys} carrying the grouped metatable.
void check_grouped(lua_State* L, const char* what) {
  if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, kGroupedType);
    const bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (same) return;
  }
  throw std::invalid_argument(std::string(what) + ": call it on the result of d:group_by(...)");
}

int df_new(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  std::vector<std::string> order;
  if (lua_type(L, 2) == LUA_TTABLE) {
    order = string_array(L, 2, "df.new");
  } else {
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING) throw std::invalid_argument("df.new: column names must be strings");
      order.emplace_back(lua_tostring(L, -1));
    }
    std::sort(order.begin(), order.end());
  }
  DataFrame frame;
  std::size_t rows = 0;
  std::vector<std::vector<Value>> cols;
  for (const auto& name : order) {
    lua_getfield(L, 1, name.c_str());
    cols.push_back(value_array(L, -1, ("df.new: column '" + name + "'").c_str()));
    lua_pop(L, 1);
    rows = std::max(rows, cols.back().size());
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    cols[i].resize(rows);
    frame.columns.push_back({order[i], std::move(cols[i])});
  }
  push_frame(L, std::move(frame));
  return 1;
}

int df_from_rows(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, 1));
  std::vector<std::string> order;
  if (lua_type(L, 2) == LUA_TTABLE) {
    order = string_array(L, 2, "df.from_rows");
  } else {
    for (lua_Integer i = 1; i <= n; ++i) {
      if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
        throw std::invalid_argument("df.from_rows: every row must be a table");
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
          throw std::invalid_argument("df.from_rows: column names must be strings");
        std::string key = lua_tostring(L, -1);
        if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(std::move(key));
      }
      lua_pop(L, 1);
    }
    std::sort(order.begin(), order.end());
  }
  DataFrame frame;
  for (const auto& name : order) frame.columns.push_back({name, {}});
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
      throw std::invalid_argument("df.from_rows: every row must be a table");
    for (auto& col : frame.columns) {
      lua_getfield(L, -1, col.name.c_str());
      col.values.push_back(to_value(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  push_frame(L, std::move(frame));
  return 1;
}

int m_nrow(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_frame(L, 1, "nrow").rows()));
  return 1;
}

int m_ncol(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_frame(L, 1, "ncol").columns.size()));
  return 1;
}

int m_columns(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "columns");
  lua_createtable(L, static_cast<int>(f.columns.size()), 0);
  for (std::size_t i = 0; i < f.columns.size(); ++i) {
    lua_pushstring(L, f.columns[i].name.c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int m_col(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "col");
  const Column& c = f.column(luaL_checkstring(L, 2));
  lua_createtable(L, static_cast<int>(c.values.size()), 0);
  for (std::size_t i = 0; i < c.values.size(); ++i) {
    push_value(L, c.values[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int m_row(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "row");
  const lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || static_cast<std::size_t>(i) > f.rows()) {
    throw std::out_of_range("row " + std::to_string(i) + " is out of range (the frame has " +
                            std::to_string(f.rows()) + " rows)");
  }
  push_row(L, f, static_cast<std::size_t>(i - 1));
  return 1;
}

int m_rows(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "rows");
  lua_createtable(L, static_cast<int>(f.rows()), 0);
  for (std::size_t r = 0; r < f.rows(); ++r) {
    push_row(L, f, r);
    lua_rawseti(L, -2, static_cast<lua_Integer>(r + 1));
  }
  return 1;
}

int m_select(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "select");
  push_frame(L, f.select(names_from(L, 2, "select")));
  return 1;
}

int m_filter(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "filter");
  luaL_checktype(L, 2, LUA_TFUNCTION);
  std::vector<std::size_t> keep;
  for (std::size_t r = 0; r < f.rows(); ++r) {
    lua_pushvalue(L, 2);
    push_row(L, f, r);
    lua_call(L, 1, 1);
    if (lua_toboolean(L, -1)) keep.push_back(r);
    lua_pop(L, 1);
  }
  push_frame(L, f.take(keep));
  return 1;
}

int m_mutate(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "mutate");
  const std::string name = luaL_checkstring(L, 2);
  std::vector<Value> values;
  if (lua_type(L, 3) == LUA_TFUNCTION) {
    values.reserve(f.rows());
    for (std::size_t r = 0; r < f.rows(); ++r) {
      lua_pushvalue(L, 3);
      push_row(L, f, r);
      lua_call(L, 1, 1);
      values.push_back(to_value(L, -1));
      lua_pop(L, 1);
    }
  } else {
    values = value_array(L, 3, "mutate");
    values.resize(f.rows());
  }
  DataFrame out = f;
  out.set_column(name, std::move(values));
  push_frame(L, std::move(out));
  return 1;
}

// sort("col") / sort("col", "desc") / sort({"a", "-b"}): a leading '-' sorts that key descending.
int m_sort(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "sort");
  std::vector<std::string> keys;
  std::vector<bool> desc;
  if (lua_type(L, 2) == LUA_TTABLE) {
    for (auto& k : string_array(L, 2, "sort")) {
      const bool d = !k.empty() && k[0] == '-';
      keys.push_back(d ? k.substr(1) : k);
      desc.push_back(d);
    }
  } else {
    keys.emplace_back(luaL_checkstring(L, 2));
    bool d = false;
    if (lua_type(L, 3) == LUA_TBOOLEAN) d = lua_toboolean(L, 3);
    if (lua_type(L, 3) == LUA_TSTRING) {
      const std::string order = lua_tostring(L, 3);
      if (order != "asc" && order != "desc")
        throw std::invalid_argument("sort: order must be \"asc\" or \"desc\"");
      d = order == "desc";
    }
    desc.push_back(d);
  }
  push_frame(L, f.sort_by(keys, desc));
  return 1;
}

int m_head(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "head");
  const lua_Integer n = luaL_optinteger(L, 2, 5);
  push_frame(L, f.head(n < 0 ? 0 : static_cast<std::size_t>(n)));
  return 1;
}

int m_tail(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "tail");
  const lua_Integer n = luaL_optinteger(L, 2, 5);
  push_frame(L, f.tail(n < 0 ? 0 : static_cast<std::size_t>(n)));
  return 1;
}

int m_describe(lua_State* L) {
  push_frame(L, check_frame(L, 1, "describe").describe());
  return 1;
}

int m_join(lua_State* L) {
  const DataFrame& left = check_frame(L, 1, "join");
  const DataFrame& right = check_frame(L, 2, "join");
  push_frame(L, left.join(right, luaL_checkstring(L, 3), luaL_optstring(L, 4, "inner")));
  return 1;
}

int m_group_by(lua_State* L) {
  const DataFrame& f = check_frame(L, 1, "group_by");
  const std::vector<std::string> keys = names_from(L, 2, "group_by");
  if (keys.empty()) throw std::invalid_argument("group_by: name at least one column");
  for (const auto& k : keys) f.index_of(k);
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "frame");
  lua_createtable(L, static_cast<int>(keys.size()), 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    lua_pushstring(L, keys[i].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "keys");
  luaL_setmetatable(L, kGroupedType);
  return 1;
}

// g:agg{sales = "sum", price = {"mean", "max"}} or g:agg{{"sales", "sum", "total"}}: output columns are named
// <column>_<op> unless a name is given.
int g_agg(lua_State* L) {
  check_grouped(L, "agg");
  lua_getfield(L, 1, "frame");
  const DataFrame& f = check_frame(L, -1, "agg");
  lua_getfield(L, 1, "keys");
  const std::vector<std::string> keys = string_array(L, -1, "agg");
  lua_pop(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  std::vector<Aggregation> aggs;
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, 2));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 2, i);
    const auto spec = string_array(L, -1, "agg");
    lua_pop(L, 1);
    if (spec.size() < 2) throw std::invalid_argument("agg: each entry is {column, op [, name]}");
    aggs.push_back({spec[0], spec[1], spec.size() > 2 ? spec[2] : spec[0] + "_" + spec[1]});
  }
  std::vector<Aggregation> named;
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const std::string column = lua_tostring(L, -2);
      std::vector<std::string> ops;
      if (lua_type(L, -1) == LUA_TSTRING) {
        ops.emplace_back(lua_tostring(L, -1));
      } else {
        ops = string_array(L, -1, "agg");
      }
      for (const auto& op : ops) named.push_back({column, op, column + "_" + op});
    }
    lua_pop(L, 1);
  }
  // Map entries come out of a Lua table in no fixed order: order them by column position, then as written.
  std::stable_sort(named.begin(), named.end(), [&](const Aggregation& a, const Aggregation& b) {
    return f.index_of(a.column) < f.index_of(b.column);
  });
  aggs.insert(aggs.end(), named.begin(), named.end());
  if (aggs.empty()) throw std::invalid_argument("agg: no aggregations given (e.g. g:agg{sales = \"sum\"})");
  push_frame(L, f.group_aggregate(keys, aggs));
  return 1;
}

int g_count(lua_State* L) {
  check_grouped(L, "count");
  lua_getfield(L, 1, "frame");
  const DataFrame& f = check_frame(L, -1, "count");
  lua_getfield(L, 1, "keys");
  const std::vector<std::string> keys = string_array(L, -1, "count");
  push_frame(L, f.group_aggregate(keys, {{"", "n", "count"}}));
  return 1;
}

}  // namespace

int open_df(lua_State* L) {
  const luaL_Reg methods[] = {{"nrow", guarded<m_nrow>},         {"ncol", guarded<m_ncol>},
                              {"columns", guarded<m_columns>},   {"col", guarded<m_col>},
                              {"row", guarded<m_row>},           {"rows", guarded<m_rows>},
                              {"select", guarded<m_select>},     {"filter", guarded<m_filter>},
                              {"mutate", guarded<m_mutate>},     {"sort", guarded<m_sort>},
                              {"head", guarded<m_head>},         {"tail", guarded<m_tail>},
                              {"describe", guarded<m_describe>}, {"join", guarded<m_join>},
                              {"group_by", guarded<m_group_by>}, {nullptr, nullptr}};
  register_frame_type(L, methods);

  luaL_newmetatable(L, kGroupedType);
  const luaL_Reg grouped[] = {{"agg", guarded<g_agg>},
                              {"aggregate", guarded<g_agg>},
                              {"count", guarded<g_count>},
                              {nullptr, nullptr}};
  lua_newtable(L);
  luaL_setfuncs(L, grouped, 0);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);

  const luaL_Reg functions[] = {
      {"new", guarded<df_new>}, {"from_rows", guarded<df_from_rows>}, {nullptr, nullptr}};
  new_library(L, functions);
  return 1;
}

}  // namespace agentrt::sandbox
