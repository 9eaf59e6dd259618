#pragma once

#include <string>
#include <string_view>

#include "agent/schema.h"

namespace agentrt::tools {

// What a built-in tool declares to the model: its description and the JSON schema of its arguments. They are
// prompt text, kept as data in prompts/tools/<tool>.json (the demo model was trained on those exact bytes),
// and read through agentrt::prompts; a missing or malformed file is a build mistake and throws
// std::logic_error.
struct ToolDeclaration {
  std::string description;
  Json parameters;
};

ToolDeclaration declaration_of(std::string_view tool);

}  // namespace agentrt::tools
