// How data frames live in Lua: a userdata owning a DataFrame, charged against the session's memory budget,
// plus the conversions between Lua values and frame values. Used by the df, csv, stats and chart libraries.
#pragma once

#include <lua.hpp>

#include "sandbox/dataframe.h"

namespace agentrt::sandbox {

inline constexpr const char* kFrameType = "agentrt.df";

// Pushes a frame userdata; throws std::bad_alloc when the memory cap cannot hold it.
void push_frame(lua_State* L, DataFrame frame);
// The frame at `index`, or nullptr when it is not one.
const DataFrame* to_frame(lua_State* L, int index);
// The frame at `index`; raises a Lua error naming `what` otherwise.
const DataFrame& check_frame(lua_State* L, int index, const char* what);

// nil → missing; integers, floats, strings, booleans as they are; json.null → missing; others throw.
Value to_value(lua_State* L, int index);
void push_value(lua_State* L, const Value& v);
// A Lua array (indices 1..n, n the largest positive integer key) of values.
std::vector<Value> value_array(lua_State* L, int index, const char* what);
// Pushes row `r` of the frame as a table {column = value}.
void push_row(lua_State* L, const DataFrame& frame, std::size_t r);

// Installs the frame metatable (its methods come from lib_df.cpp).
void register_frame_type(lua_State* L, const luaL_Reg* methods);

}  // namespace agentrt::sandbox
