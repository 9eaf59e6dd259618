#include "tools/tool_declaration.h"

#include <stdexcept>

#include "prompts/prompts.h"

namespace agentrt::tools {

ToolDeclaration declaration_of(std::string_view tool) {
  const std::string path = "tools/" + std::string(tool) + ".json";
  if (!agentrt::prompts::has(path)) throw std::logic_error("no tool declaration " + path + " under prompts/");
  const Json file = Json::parse(agentrt::prompts::get(path), nullptr, /*allow_exceptions=*/false);
  if (!file.is_object() || !file.contains("description") || !file["description"].is_string() ||
      !file.contains("parameters") || !file["parameters"].is_object()) {
    throw std::logic_error("prompts/" + path +
                           " must be an object with a string 'description' and an object "
                           "'parameters'");
  }
  return {file["description"].get<std::string>(), file["parameters"]};
}

}  // namespace agentrt::tools
