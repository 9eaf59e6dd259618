// Turns Lua values into the short text the model reads: numbers as Lua prints them, strings as they are at
// the top level and quoted inside tables, tables as {1, 2, key = "v"} with sorted keys and caps on depth and
// size.
#pragma once

#include <string>

#include <lua.hpp>

namespace agentrt::sandbox {

// Formats the value at `index`. May run __tostring metamethods: call it inside a protected call.
std::string format_value(lua_State* L, int index, std::size_t max_bytes = 16384);

}  // namespace agentrt::sandbox
