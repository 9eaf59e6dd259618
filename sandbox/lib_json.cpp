// json: encode Lua values to JSON text and decode JSON text to Lua values (json.null stands for null).
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"
#include "sandbox/session_state.h"

namespace agentrt::sandbox {
namespace {

constexpr int kMaxDepth = 128;

// json.null: a light userdata no other value equals.
void* null_sentinel() {
  static char tag;
  return &tag;
}

nlohmann::json to_json(lua_State* L, int index, int depth);

// A table is an array when its keys are exactly 1..n (an empty table encodes as []).
bool is_array(lua_State* L, int index, lua_Integer& length) {
  length = static_cast<lua_Integer>(lua_rawlen(L, index));
  lua_Integer count = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return false;
    }
    ++count;
  }
  return count == length;
}

nlohmann::json to_json(lua_State* L, int index, int depth) {
  index = lua_absindex(L, index);
  if (depth > kMaxDepth) throw std::runtime_error("json.encode: nesting too deep (or a cycle)");
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return nullptr;
    case LUA_TBOOLEAN:
      return static_cast<bool>(lua_toboolean(L, index));
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) return static_cast<std::int64_t>(lua_tointeger(L, index));
      const double v = lua_tonumber(L, index);
      if (!std::isfinite(v)) throw std::runtime_error("json.encode: cannot encode " + format_number(v));
      return v;
    }
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* text = lua_tolstring(L, index, &len);
      return std::string(text, len);
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == null_sentinel()) return nullptr;
      break;
    case LUA_TTABLE: {
      luaL_checkstack(L, 6, "json.encode");
      lua_Integer n = 0;
      if (is_array(L, index, n)) {
        nlohmann::json out = nlohmann::json::array();
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, index, i);
          out.push_back(to_json(L, -1, depth + 1));
          lua_pop(L, 1);
        }
        return out;
      }
      nlohmann::json out = nlohmann::json::object();
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        std::string key;
        if (lua_type(L, -2) == LUA_TSTRING) {
          key = lua_tostring(L, -2);
        } else if (lua_type(L, -2) == LUA_TNUMBER) {
          key = lua_isinteger(L, -2) ? std::to_string(lua_tointeger(L, -2))
                                     : format_number(lua_tonumber(L, -2));
        } else {
          throw std::runtime_error(std::string("json.encode: table keys must be strings or numbers, not ") +
                                   luaL_typename(L, -2));
        }
        out[key] = to_json(L, -1, depth + 1);
        lua_pop(L, 1);
      }
      return out;
    }
    default:
      break;
  }
  throw std::runtime_error(std::string("json.encode: cannot encode a ") + luaL_typename(L, index));
}

void push_json(lua_State* L, const nlohmann::json& j, int depth) {
  if (depth > kMaxDepth) throw std::runtime_error("json.decode: nesting too deep");
  luaL_checkstack(L, 4, "json.decode");
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      lua_pushlightuserdata(L, null_sentinel());
      return;
    case nlohmann::json::value_t::boolean:
      lua_pushboolean(L, j.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
      lua_pushinteger(L, j.get<std::int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned: {
      const auto v = j.get<std::uint64_t>();
      if (v <= static_cast<std::uint64_t>(LUA_MAXINTEGER)) {
        lua_pushinteger(L, static_cast<lua_Integer>(v));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(v));
      }
      return;
    }
    case nlohmann::json::value_t::number_float:
      lua_pushnumber(L, j.get<double>());
      return;
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(j.size()), 0);
      lua_Integer i = 0;
      for (const auto& item : j) {
        push_json(L, item, depth + 1);
        lua_rawseti(L, -2, ++i);
      }
      return;
    }
    case nlohmann::json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(j.size()));
      for (const auto& [key, item] : j.items()) {
        lua_pushlstring(L, key.data(), key.size());
        push_json(L, item, depth + 1);
        lua_rawset(L, -3);
      }
      return;
    }
    default:
      lua_pushnil(L);
  }
}

int json_encode(lua_State* L) {
  luaL_checkany(L, 1);
  const int indent = lua_isnoneornil(L, 2) ? -1 : static_cast<int>(luaL_checkinteger(L, 2));
  const nlohmann::json j = to_json(L, 1, 0);
  const std::string text = j.dump(indent < 0 ? -1 : (indent > 8 ? 8 : indent), ' ', false,
                                  nlohmann::json::error_handler_t::replace);
  if (text.size() > session_of(L).limits.max_string_bytes)
    throw std::runtime_error("json.encode: result too large");
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int json_decode(lua_State* L) {
  std::size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, text + len);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(std::string("json.decode: ") + e.what());
  }
  push_json(L, j, 0);
  return 1;
}

}  // namespace

int open_json(lua_State* L) {
  const luaL_Reg functions[] = {
      {"encode", guarded<json_encode>}, {"decode", guarded<json_decode>}, {nullptr, nullptr}};
  new_library(L, functions);
  lua_pushlightuserdata(L, null_sentinel());
  lua_setfield(L, -2, "null");
  return 1;
}

}  // namespace agentrt::sandbox
