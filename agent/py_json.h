// JSON text exactly as Python's json.dumps(obj, ensure_ascii=False[, indent=N]) writes it: the protocol's tool
// lists and calls were rendered that way in the models' training data, so prompts must match byte for byte.
#pragma once

#include <string>

#include "agent/schema.h"

namespace agentrt::agent {

// indent < 0: one line with ", " and ": " separators (json.dumps default); indent >= 0: that many spaces per level,
// "," at line ends and ": " after keys. Non-ASCII stays unescaped; invalid UTF-8 is replaced by U+FFFD.
std::string py_dumps(const Json& value, int indent = -1);

}  // namespace agentrt::agent
