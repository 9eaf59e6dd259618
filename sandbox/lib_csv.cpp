// csv: csv.parse(text [, opts]) and csv.read(path [, opts]) give a data frame; csv.encode(frame) gives text
// and csv.write(path, frame) writes it. opts: {delimiter = ",", header = true, infer = true}.
#include <stdexcept>

#include "sandbox/csv.h"
#include "sandbox/frame_binding.h"
#include "sandbox/libraries.h"
#include "sandbox/lua_util.h"
#include "sandbox/session_state.h"

namespace agentrt::sandbox {
namespace {

char delimiter_option(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TTABLE) return ',';
  const std::string d = string_field(L, index, "delimiter", ",");
  if (d == "\\t" || d == "tab") return '\t';
  if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r') {
    throw std::invalid_argument("csv: delimiter must be one character other than a quote or a line break");
  }
  return d[0];
}

CsvOptions options_at(lua_State* L, int index) {
  CsvOptions o;
  if (lua_isnoneornil(L, index)) return o;
  luaL_checktype(L, index, LUA_TTABLE);
  o.delimiter = delimiter_option(L, index);
  o.header = bool_field(L, index, "header", true);
  o.infer_types = bool_field(L, index, "infer", true);
  return o;
}

int csv_parse(lua_State* L) {
  std::size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  push_frame(L, parse_csv(std::string_view(text, len), options_at(L, 2)));
  return 1;
}

int csv_read(lua_State* L) {
  const std::string text = session_of(L).workspace.read(luaL_checkstring(L, 1));
  push_frame(L, parse_csv(text, options_at(L, 2)));
  return 1;
}

int csv_encode(lua_State* L) {
  const std::string text = to_csv(check_frame(L, 1, "csv.encode"), delimiter_option(L, 2));
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int csv_write(lua_State* L) {
  const char* path = luaL_checkstring(L, 1);
  const DataFrame& frame = check_frame(L, 2, "csv.write");
  const std::string text = to_csv(frame, delimiter_option(L, 3));
  session_of(L).workspace.write(path, text);
  lua_pushinteger(L, static_cast<lua_Integer>(frame.rows()));
  return 1;
}

}  // namespace

int open_csv(lua_State* L) {
  const luaL_Reg functions[] = {{"parse", guarded<csv_parse>},
                                {"read", guarded<csv_read>},
                                {"encode", guarded<csv_encode>},
                                {"write", guarded<csv_write>},
                                {nullptr, nullptr}};
  new_library(L, functions);
  return 1;
}

}  // namespace agentrt::sandbox
