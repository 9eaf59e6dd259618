#include "sandbox/lua_util.h"

#include <cmath>
#include <cstdio>

namespace agentrt::sandbox {

std::vector<double> number_array(lua_State* L, int index, const char* what) {
  if (lua_type(L, index) != LUA_TTABLE) {
    throw std::runtime_error(std::string(what) + ": expected an array of numbers, got " +
                             luaL_typename(L, index));
  }
  const lua_Unsigned n = lua_rawlen(L, index);
  std::vector<double> out;
  out.reserve(n);
  for (lua_Unsigned i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, static_cast<lua_Integer>(i));
    int is_number = 0;
    const double v = lua_tonumberx(L, -1, &is_number);
    const int type = lua_type(L, -1);
    lua_pop(L, 1);
    if (!is_number || type != LUA_TNUMBER) {
      throw std::runtime_error(std::string(what) + ": element " + std::to_string(i) + " is not a number");
    }
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> string_array(lua_State* L, int index, const char* what) {
  if (lua_type(L, index) != LUA_TTABLE) {
    throw std::runtime_error(std::string(what) + ": expected an array, got " + luaL_typename(L, index));
  }
  const lua_Unsigned n = lua_rawlen(L, index);
  std::vector<std::string> out;
  out.reserve(n);
  for (lua_Unsigned i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, static_cast<lua_Integer>(i));
    const int type = lua_type(L, -1);
    if (type == LUA_TSTRING) {
      out.emplace_back(lua_tostring(L, -1));
    } else if (type == LUA_TNUMBER) {
      out.push_back(lua_isinteger(L, -1) ? std::to_string(lua_tointeger(L, -1))
                                         : format_number(lua_tonumber(L, -1)));
    } else if (type == LUA_TBOOLEAN) {
      out.emplace_back(lua_toboolean(L, -1) ? "true" : "false");
    } else {
      lua_pop(L, 1);
      throw std::runtime_error(std::string(what) + ": element " + std::to_string(i) + " is a " +
                               lua_typename(L, type) + ", expected a string or number");
    }
    lua_pop(L, 1);
  }
  return out;
}

std::string string_field(lua_State* L, int index, const char* key, const std::string& fallback) {
  lua_getfield(L, index, key);
  std::string out = fallback;
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    out = lua_tostring(L, -1);
  } else if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    throw std::runtime_error(std::string("option '") + key + "' must be a string");
  }
  lua_pop(L, 1);
  return out;
}

double number_field(lua_State* L, int index, const char* key, double fallback) {
  lua_getfield(L, index, key);
  double out = fallback;
  if (lua_type(L, -1) == LUA_TNUMBER) {
    out = lua_tonumber(L, -1);
  } else if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    throw std::runtime_error(std::string("option '") + key + "' must be a number");
  }
  lua_pop(L, 1);
  return out;
}

bool bool_field(lua_State* L, int index, const char* key, bool fallback) {
  lua_getfield(L, index, key);
  bool out = fallback;
  if (lua_type(L, -1) == LUA_TBOOLEAN) {
    out = lua_toboolean(L, -1);
  } else if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    throw std::runtime_error(std::string("option '") + key + "' must be true or false");
  }
  lua_pop(L, 1);
  return out;
}

void new_library(lua_State* L, const luaL_Reg* functions) {
  lua_newtable(L);
  luaL_setfuncs(L, functions, 0);
}

std::string format_number(double value) {
  char buf[64];
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.14g", value);
  }
  return buf;
}

}  // namespace agentrt::sandbox
