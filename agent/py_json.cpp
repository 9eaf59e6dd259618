#include "agent/py_json.h"

#include <limits>

namespace agentrt::agent {
namespace {

void newline(std::string& out, int indent, int depth) {
  out.push_back('\n');
  out.append(static_cast<size_t>(indent * depth), ' ');
}

void dump(const Json& v, int indent, int depth, std::string& out) {
  const char* item_sep = indent < 0 ? ", " : ",";
  if (v.is_object()) {
    if (v.empty()) {
      out += "{}";
      return;
    }
    out.push_back('{');
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += item_sep;
      first = false;
      if (indent >= 0) newline(out, indent, depth + 1);
      out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace);
      out += ": ";
      dump(it.value(), indent, depth + 1, out);
    }
    if (indent >= 0) newline(out, indent, depth);
    out.push_back('}');
  } else if (v.is_array()) {
    if (v.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    bool first = true;
    for (const auto& item : v) {
      if (!first) out += item_sep;
      first = false;
      if (indent >= 0) newline(out, indent, depth + 1);
      dump(item, indent, depth + 1, out);
    }
    if (indent >= 0) newline(out, indent, depth);
    out.push_back(']');
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (d != d) {
      out += "NaN";
    } else if (d == std::numeric_limits<double>::infinity()) {
      out += "Infinity";
    } else if (d == -std::numeric_limits<double>::infinity()) {
      out += "-Infinity";
    } else {
      out += v.dump();
    }
  } else {
    out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

}  // namespace

std::string py_dumps(const Json& value, int indent) {
  std::string out;
  dump(value, indent, 0, out);
  return out;
}

}  // namespace agentrt::agent
