// The Lua-side libraries implemented in C++. Each opener pushes its library table; build_environment() names
// them as globals (fs, csv, df, stats, json, chart) and makes them read-only.
#pragma once

#include <lua.hpp>

namespace agentrt::sandbox {

int open_fs(lua_State* L);
int open_csv(lua_State* L);
int open_df(lua_State* L);
int open_stats(lua_State* L);
int open_json(lua_State* L);
int open_chart(lua_State* L);

}  // namespace agentrt::sandbox
