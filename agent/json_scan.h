// Finding a JSON value inside model text: the span of the bracketed value that starts at an opening bracket,
// honouring JSON strings and escapes, without parsing it. The parser uses it for a call's object, the planner for
// a plan's list.
#pragma once

#include <cstddef>
#include <string_view>

namespace agentrt::agent {

// Length of the balanced {...} or [...] that starts at text[start] (which must be '{' or '['), counting both
// kinds of bracket; std::string_view::npos when it never closes.
inline size_t balanced_json_length(std::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1 - start;
    }
  }
  return std::string_view::npos;
}

}  // namespace agentrt::agent
