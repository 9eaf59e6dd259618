#include "sandbox/frame_binding.h"

#include <new>
#include <stdexcept>
#include <string>

#include "sandbox/lua_util.h"
#include "sandbox/session_state.h"

namespace agentrt::sandbox {
namespace {

struct FrameBox {
  DataFrame* frame;
  std::size_t charged;
};

int frame_gc(lua_State* L) {
  auto* box = static_cast<FrameBox*>(luaL_checkudata(L, 1, kFrameType));
  if (box->frame != nullptr) {
    delete box->frame;
    box->frame = nullptr;
    session_of(L).budget.release(box->charged);
    box->charged = 0;
  }
  return 0;
}

int frame_tostring_impl(lua_State* L) {
  const std::string text = check_frame(L, 1, "tostring").to_text();
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int frame_len(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_frame(L, 1, "#").rows()));
  return 1;
}

}  // namespace

void push_frame(lua_State* L, DataFrame frame) {
  const std::size_t bytes = frame.approx_bytes();
  SessionState& s = session_of(L);
  auto* box = static_cast<FrameBox*>(lua_newuserdatauv(L, sizeof(FrameBox), 0));
  box->frame = nullptr;
  box->charged = 0;
  luaL_setmetatable(L, kFrameType);
  if (!s.budget.try_charge(bytes)) throw std::bad_alloc();
  box->charged = bytes;
  try {
    box->frame = new DataFrame(std::move(frame));
  } catch (...) {
    s.budget.release(bytes);
    box->charged = 0;
    throw;
  }
}

const DataFrame* to_frame(lua_State* L, int index) {
  auto* box = static_cast<FrameBox*>(luaL_testudata(L, index, kFrameType));
  return box ? box->frame : nullptr;
}

const DataFrame& check_frame(lua_State* L, int index, const char* what) {
  const DataFrame* f = to_frame(L, index);
  if (f == nullptr) {
    throw std::invalid_argument(std::string(what) + ": expected a data frame, got " +
                                luaL_typename(L, index));
  }
  return *f;
}

Value to_value(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE:
    case LUA_TLIGHTUSERDATA:
      return Value{};
    case LUA_TBOOLEAN:
      return static_cast<bool>(lua_toboolean(L, index));
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) return static_cast<std::int64_t>(lua_tointeger(L, index));
      return static_cast<double>(lua_tonumber(L, index));
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* text = lua_tolstring(L, index, &len);
      return std::string(text, len);
    }
    default:
      throw std::invalid_argument(std::string("a data frame cell cannot hold a ") + luaL_typename(L, index));
  }
}

void push_value(lua_State* L, const Value& v) {
  switch (v.index()) {
    case 0:
      lua_pushnil(L);
      break;
    case 1:
      lua_pushinteger(L, std::get<std::int64_t>(v));
      break;
    case 2:
      lua_pushnumber(L, std::get<double>(v));
      break;
    case 3: {
      const auto& s = std::get<std::string>(v);
      lua_pushlstring(L, s.data(), s.size());
      break;
    }
    default:
      lua_pushboolean(L, std::get<bool>(v));
      break;
  }
}

std::vector<Value> value_array(lua_State* L, int index, const char* what) {
  index = lua_absindex(L, index);
  if (lua_type(L, index) != LUA_TTABLE) {
    throw std::invalid_argument(std::string(what) + ": expected an array, got " + luaL_typename(L, index));
  }
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, index));
  // Holes (missing values) can hide the end of an array from #: take the largest positive integer key.
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > n) n = lua_tointeger(L, -1);
  }
  // Check the size against the memory cap before reserving: the array may be sparse ({[1e8] = 1}).
  const SessionState& s = session_of(L);
  if (static_cast<std::size_t>(n) > (s.budget.limit() - s.budget.used()) / sizeof(Value))
    throw std::bad_alloc();
  std::vector<Value> out;
  out.reserve(static_cast<std::size_t>(n));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    out.push_back(to_value(L, -1));
    lua_pop(L, 1);
  }
  return out;
}

void push_row(lua_State* L, const DataFrame& frame, std::size_t r) {
  lua_createtable(L, 0, static_cast<int>(frame.columns.size()));
  for (const auto& c : frame.columns) {
    push_value(L, c.values[r]);
    lua_setfield(L, -2, c.name.c_str());
  }
}

void register_frame_type(lua_State* L, const luaL_Reg* methods) {
  luaL_newmetatable(L, kFrameType);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, frame_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, guarded<frame_tostring_impl>);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, guarded<frame_len>);
  lua_setfield(L, -2, "__len");
  lua_pushliteral(L, "data frame");
  lua_setfield(L, -2, "__name");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

}  // namespace agentrt::sandbox
