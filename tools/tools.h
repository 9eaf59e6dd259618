// tools: the built-in tools (calculator, search, open_url, http, the code interpreter, MCP tools). Each implements
// agent::Tool in its own file pair; this header is their one factory, by name, so the CLI and the server build a
// registry without naming concrete classes. Their declarations (description, argument schema) are data under
// prompts/tools/. Tools may include agent/ (the Tool interface), sandbox/ (the interpreter), prompts/ and
// third-party libraries; they never include apps/.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/schema.h"

namespace agentrt::tools {

struct ToolsConfig {
  // The session's folder for files the tools read and write.
  std::filesystem::path workspace = std::filesystem::current_path();
  // Per-tool settings, keyed by tool name: settings["http"], settings["search"], ...
  Json settings = Json::object();
};

// The names make_tool() knows, in the order they are offered to the model.
std::vector<std::string> builtin_tool_names();

// A new instance of the built-in tool `name`; throws std::invalid_argument listing the known names otherwise.
std::shared_ptr<agent::Tool> make_tool(std::string_view name, const ToolsConfig& config);

}  // namespace agentrt::tools
