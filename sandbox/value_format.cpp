#include "sandbox/value_format.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace agentrt::sandbox {
namespace {

constexpr int kMaxDepth = 3;
constexpr int kMaxItems = 50;

std::string quote(const char* text, std::size_t len) {
  std::string out = "\"";
  for (std::size_t i = 0; i < len; ++i) {
    const char c = text[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

bool is_identifier(const char* text, std::size_t len) {
  if (len == 0 || (text[0] >= '0' && text[0] <= '9')) return false;
  for (std::size_t i = 0; i < len; ++i) {
    const char c = text[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

class Formatter {
 public:
  Formatter(lua_State* L, std::size_t max_bytes) : L_(L), max_(max_bytes) {}

  std::string format(int index, bool top) {
    index = lua_absindex(L_, index);
    switch (lua_type(L_, index)) {
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* text = lua_tolstring(L_, index, &len);
        return top ? std::string(text, len) : quote(text, len);
      }
      case LUA_TTABLE:
        if (!luaL_getmetafield(L_, index, "__tostring")) return table(index);
        lua_pop(L_, 1);
        return tostring(index);
      default:
        return tostring(index);
    }
  }

 private:
  std::string tostring(int index) {
    std::size_t len = 0;
    const char* text = luaL_tolstring(L_, index, &len);
    std::string out(text, len);
    lua_pop(L_, 1);
    return out;
  }

  std::string table(int index) {
    const void* id = lua_topointer(L_, index);
    if (std::find(path_.begin(), path_.end(), id) != path_.end()) return "<cycle>";
    if (static_cast<int>(path_.size()) >= kMaxDepth) return "{...}";
    if (budget_exhausted()) return "...";
    luaL_checkstack(L_, 8, "formatting a value");
    path_.push_back(id);
    std::vector<std::string> parts;
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L_, index));
    long long hidden = 0;
    for (lua_Integer i = 1; i <= n; ++i) {
      if (i > kMaxItems) {
        hidden += n - kMaxItems;
        break;
      }
      lua_rawgeti(L_, index, i);
      parts.push_back(format(-1, false));
      lua_pop(L_, 1);
      used_ += parts.back().size();
    }
    std::vector<std::pair<std::string, std::string>> named;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      const bool in_array = lua_isinteger(L_, -2) && lua_tointeger(L_, -2) >= 1 && lua_tointeger(L_, -2) <= n;
      if (!in_array) {
        if (static_cast<int>(named.size()) >= kMaxItems || budget_exhausted()) {
          ++hidden;
        } else {
          std::string key;
          if (lua_type(L_, -2) == LUA_TSTRING) {
            std::size_t len = 0;
            const char* text = lua_tolstring(L_, -2, &len);
            key = is_identifier(text, len) ? std::string(text, len) : "[" + quote(text, len) + "]";
          } else {
            key = "[" + format(-2, false) + "]";
          }
          std::string value = format(-1, false);
          used_ += key.size() + value.size();
          named.emplace_back(std::move(key), std::move(value));
        }
      }
      lua_pop(L_, 1);
    }
    std::sort(named.begin(), named.end());
    for (auto& [key, value] : named) parts.push_back(key + " = " + value);
    if (hidden > 0) parts.push_back("... (" + std::to_string(hidden) + " more)");
    path_.pop_back();
    std::string out = "{";
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += ", ";
      out += parts[i];
    }
    return out + "}";
  }

  bool budget_exhausted() const { return used_ > max_; }

  lua_State* L_;
  std::size_t max_;
  std::size_t used_ = 0;
  std::vector<const void*> path_;
};

}  // namespace

std::string format_value(lua_State* L, int index, std::size_t max_bytes) {
  std::string out = Formatter(L, max_bytes).format(index, true);
  if (out.size() > max_bytes) {
    out.resize(max_bytes);
    out += "... [value cut]";
  }
  return out;
}

}  // namespace agentrt::sandbox
