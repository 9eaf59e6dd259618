// Builds the allow-listed global environment of a sandbox lua_State (the language-level defence) and the
// instruction/wall-clock hook that stops a cell.
#pragma once

#include <lua.hpp>

namespace agentrt::sandbox {

// How many VM instructions run between two checks of the clock and the instruction cap.
inline constexpr int kHookPeriod = 1000;

// Opens the allowed standard libraries, replaces the dangerous functions with safe versions, adds the
// Lua-side data and chart libraries and makes every library table read-only. The state's extra space must
// already point to its SessionState.
void build_environment(lua_State* L);

// Arms the hook on the main thread for the next cell (coroutines inherit it when created).
void arm_hook(lua_State* L);

// The message handler used for cells: appends a traceback to string errors.
int traceback_handler(lua_State* L);

}  // namespace agentrt::sandbox
