// Helpers for the C functions the sandbox gives to Lua. Every such function goes through guarded<>: a C++
// exception never crosses into Lua; it becomes a Lua error carrying its message.
#pragma once

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <lua.hpp>

namespace agentrt::sandbox {

template <lua_CFunction F>
int guarded(lua_State* L) {
  std::string message;
  try {
    return F(L);
  } catch (const std::bad_alloc&) {
    message = "not enough memory";
  } catch (const std::exception& e) {
    message = e.what();
  }
  return luaL_error(L, "%s", message.c_str());
}

// A Lua array (1..#t, raw) of numbers; throws naming `what` and the first bad element.
std::vector<double> number_array(lua_State* L, int index, const char* what);
// A Lua array of values converted with luaL_tolstring-free rules (strings and numbers as text).
std::vector<std::string> string_array(lua_State* L, int index, const char* what);
// Field `key` of the table at `index` as a string/number/boolean, or the fallback when nil.
std::string string_field(lua_State* L, int index, const char* key, const std::string& fallback);
double number_field(lua_State* L, int index, const char* key, double fallback);
bool bool_field(lua_State* L, int index, const char* key, bool fallback);

// Registers `functions` in a new table and leaves it on the stack.
void new_library(lua_State* L, const luaL_Reg* functions);

// Formats a number the way Lua's tostring does (integers without a fraction, floats with %.14g).
std::string format_number(double value);

}  // namespace agentrt::sandbox
