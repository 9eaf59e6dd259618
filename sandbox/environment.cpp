#include "sandbox/environment.h"

#include <chrono>
#include <cstring>
#include <string>

#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"
#include "sandbox/session_state.h"

namespace agentrt::sandbox {
namespace {

constexpr const char* kProtectedKey = "agentrt.protected";

std::string stop_message(const SessionState& s) {
  if (s.stop == StopReason::Instructions) {
    return "instruction limit exceeded (" + std::to_string(s.limits.max_instructions) + " VM instructions)";
  }
  return "execution timed out after " + std::to_string(s.timeout.count()) + " ms";
}

// Runs every kHookPeriod instructions. Once a cell must stop it re-arms itself to run on every instruction of
// every thread it reaches, and raises again each time, so a pcall that swallows the error cannot keep going.
void count_hook(lua_State* L, lua_Debug*) {
  SessionState& s = session_of(L);
  if (s.stop == StopReason::None) {
    s.instructions += kHookPeriod;
    if (s.limits.max_instructions != 0 && s.instructions >= s.limits.max_instructions) {
      s.stop = StopReason::Instructions;
    } else if (std::chrono::steady_clock::now() >= s.deadline) {
      s.stop = StopReason::Timeout;
    } else {
      return;
    }
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  const std::string message = stop_message(s);
  luaL_error(L, "%s", message.c_str());
}

int sandbox_print(lua_State* L) {
  SessionState& s = session_of(L);
  const int n = lua_gettop(L);
  std::string line;
  for (int i = 1; i <= n; ++i) {
    std::size_t len = 0;
    const char* text = luaL_tolstring(L, i, &len);
    if (i > 1) line += '\t';
    line.append(text, len);
    lua_pop(L, 1);
  }
  line += '\n';
  s.append_output(line);
  return 0;
}

// load(chunk [, chunkname [, mode [, env]]]) for source text only: never binary chunks, never reader
// functions.
int sandbox_load(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    return luaL_error(L, "load: only source text (a string) can be loaded in the sandbox");
  }
  std::size_t len = 0;
  const char* text = lua_tolstring(L, 1, &len);
  const SessionState& s = session_of(L);
  if (len > s.limits.max_source_bytes) {
    lua_pushnil(L);
    lua_pushliteral(L, "load: chunk too large");
    return 2;
  }
  const char* name = luaL_optstring(L, 2, "=load");
  const int status = luaL_loadbufferx(L, text, len, name, "t");
  if (status != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  if (!lua_isnone(L, 4)) {
    lua_pushvalue(L, 4);
    if (lua_setupvalue(L, -2, 1) == nullptr) lua_pop(L, 1);
  }
  return 1;
}

// setmetatable that refuses finalizers: __gc would run code at collection time, outside any cell's limits.
int sandbox_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) {
      return luaL_error(L, "setmetatable: __gc metamethods are not allowed in the sandbox");
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

bool is_protected(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TTABLE) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kProtectedKey);
  lua_pushvalue(L, index);
  const bool found = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return found;
}

int sandbox_rawset(lua_State* L) {
  if (is_protected(L, 1)) return luaL_error(L, "rawset: library tables are read-only");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int sandbox_collectgarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") != 0) {
    return luaL_error(L, "collectgarbage: only collectgarbage(\"count\") is allowed in the sandbox");
  }
  lua_pushnumber(L, static_cast<lua_Number>(lua_gc(L, LUA_GCCOUNT, 0)) +
                        static_cast<lua_Number>(lua_gc(L, LUA_GCCOUNTB, 0)) / 1024.0);
  return 1;
}

// string.rep with the sandbox's string cap, checked before anything is allocated.
int sandbox_rep(lua_State* L) {
  std::size_t len = 0;
  std::size_t sep_len = 0;
  luaL_checklstring(L, 1, &len);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &sep_len);
  if (n > 0) {
    const long double total = static_cast<long double>(len) * static_cast<long double>(n) +
                              static_cast<long double>(sep_len) * static_cast<long double>(n - 1);
    const std::size_t cap = session_of(L).limits.max_string_bytes;
    if (total > static_cast<long double>(cap)) {
      return luaL_error(L,
                        "string.rep: the result would be %I bytes; the sandbox allows strings up to %I bytes",
                        static_cast<lua_Integer>(total), static_cast<lua_Integer>(cap));
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int finish_call(lua_State* L, int, lua_KContext) {
  return lua_gettop(L);
}

// The message handler xpcall really gets. An error raised by the stop hook leaves Lua's hooks disabled until
// the error is caught, so a user handler running then could loop forever: once the cell must stop, the user's
// handler is skipped and the error passes through unchanged.
int stop_aware_handler(lua_State* L) {
  if (session_of(L).stop != StopReason::None) return 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_callk(L, lua_gettop(L) - 1, 1, 0, finish_call);
  return 1;
}

int sandbox_xpcall(lua_State* L) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, stop_aware_handler, 1);
  lua_replace(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, finish_call);
  return lua_gettop(L);
}

int readonly_newindex(lua_State* L) {
  return luaL_error(L, "library tables are read-only");
}

// __pairs of a read-only proxy: walks the real table (an upvalue) without handing it out.
int proxy_next(lua_State* L) {
  lua_settop(L, 2);
  if (lua_next(L, lua_upvalueindex(1)) != 0) return 2;
  lua_pushnil(L);
  return 1;
}

int proxy_pairs(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, proxy_next, 1);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// Replaces the table on top of the stack with a read-only proxy of it.
void make_readonly(lua_State* L) {
  const int real = lua_gettop(L);
  lua_newtable(L);  // proxy
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, real);
  lua_pushcclosure(L, proxy_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, kProtectedKey);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_replace(L, real);
}

void wrap_with_original(lua_State* L, int table, const char* name, lua_CFunction wrapper) {
  lua_getfield(L, table, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, table, name);
}

void remove_field(lua_State* L, int table, const char* name) {
  lua_pushnil(L);
  lua_setfield(L, table, name);
}

int build(lua_State* L) {
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kProtectedKey);

  const luaL_Reg standard[] = {{LUA_GNAME, luaopen_base},       {LUA_COLIBNAME, luaopen_coroutine},
                               {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
                               {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
                               {LUA_OSLIBNAME, luaopen_os}};
  for (const auto& lib : standard) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }

  lua_pushglobaltable(L);
  const int G = lua_gettop(L);
  for (const char* name : {"dofile", "loadfile", "require", "warn", "io", "debug", "package"}) {
    remove_field(L, G, name);
  }
  lua_pushcfunction(L, sandbox_print);
  lua_setfield(L, G, "print");
  lua_pushcfunction(L, sandbox_load);
  lua_setfield(L, G, "load");
  lua_pushcfunction(L, sandbox_collectgarbage);
  lua_setfield(L, G, "collectgarbage");
  wrap_with_original(L, G, "setmetatable", sandbox_setmetatable);
  wrap_with_original(L, G, "rawset", sandbox_rawset);
  wrap_with_original(L, G, "xpcall", sandbox_xpcall);

  // os: only the clock and calendar functions.
  lua_getfield(L, G, "os");
  const int os_full = lua_gettop(L);
  lua_createtable(L, 0, 4);
  for (const char* name : {"time", "clock", "date", "difftime"}) {
    lua_getfield(L, os_full, name);
    lua_setfield(L, -2, name);
  }
  lua_setfield(L, G, "os");
  lua_pop(L, 1);

  lua_getfield(L, G, "string");
  const int str = lua_gettop(L);
  remove_field(L, str, "dump");
  wrap_with_original(L, str, "rep", sandbox_rep);
  lua_pop(L, 1);

  const std::pair<const char*, lua_CFunction> ours[] = {{"fs", open_fs},     {"csv", open_csv},
                                                        {"df", open_df},     {"stats", open_stats},
                                                        {"json", open_json}, {"chart", open_chart}};
  for (const auto& [name, opener] : ours) {
    lua_pushcfunction(L, opener);
    lua_call(L, 0, 1);
    lua_setfield(L, G, name);
  }

  for (const char* name :
       {"string", "table", "math", "utf8", "coroutine", "os", "fs", "csv", "df", "stats", "json", "chart"}) {
    lua_getfield(L, G, name);
    make_readonly(L);
    lua_setfield(L, G, name);
  }

  // Strings index the read-only string library, and getmetatable("") reveals nothing.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_getfield(L, G, "string");
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  lua_pop(L, 1);  // G
  return 0;
}

}  // namespace

void build_environment(lua_State* L) {
  lua_pushcfunction(L, build);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error";
    lua_pop(L, 1);
    throw std::runtime_error("cannot set up the Lua sandbox: " + message);
  }
}

void arm_hook(lua_State* L) {
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookPeriod);
}

int traceback_handler(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  if (message == nullptr) {
    message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, message, 1);
  return 1;
}

}  // namespace agentrt::sandbox
