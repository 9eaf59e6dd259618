// fs: files inside the session's workspace (read, write, list, exists), under the workspace's caps.
#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"
#include "sandbox/session_state.h"

namespace agentrt::sandbox {
namespace {

// Paths keep embedded NUL bytes so the workspace can refuse them instead of silently cutting the name.
std::string_view path_arg(lua_State* L, int index) {
  std::size_t len = 0;
  const char* text = luaL_checklstring(L, index, &len);
  return {text, len};
}

int fs_read(lua_State* L) {
  const std::string data = session_of(L).workspace.read(path_arg(L, 1));
  lua_pushlstring(L, data.data(), data.size());
  return 1;
}

int fs_write(lua_State* L) {
  const std::string_view path = path_arg(L, 1);
  std::size_t len = 0;
  const char* data = luaL_checklstring(L, 2, &len);
  session_of(L).workspace.write(path, std::string_view(data, len));
  lua_pushinteger(L, static_cast<lua_Integer>(len));
  return 1;
}

int fs_list(lua_State* L) {
  const auto entries =
      session_of(L).workspace.list(lua_isnoneornil(L, 1) ? std::string_view(".") : path_arg(L, 1));
  lua_createtable(L, static_cast<int>(entries.size()), 0);
  lua_Integer i = 0;
  for (const auto& e : entries) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, e.name.c_str());
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, static_cast<lua_Integer>(e.size));
    lua_setfield(L, -2, "size");
    lua_pushboolean(L, e.directory);
    lua_setfield(L, -2, "dir");
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

int fs_exists(lua_State* L) {
  lua_pushboolean(L, session_of(L).workspace.exists(path_arg(L, 1)));
  return 1;
}

}  // namespace

int open_fs(lua_State* L) {
  const luaL_Reg functions[] = {{"read", guarded<fs_read>},
                                {"write", guarded<fs_write>},
                                {"list", guarded<fs_list>},
                                {"exists", guarded<fs_exists>},
                                {nullptr, nullptr}};
  new_library(L, functions);
  return 1;
}

}  // namespace agentrt::sandbox
