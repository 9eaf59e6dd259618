#include <functional>
#include <stdexcept>

#include "tools/calculator_tool.h"
#include "tools/http_tool.h"
#include "tools/interpreter_tool.h"
#include "tools/open_url_tool.h"
#include "tools/search_tool.h"
#include "tools/tools.h"

namespace agentrt::tools {
namespace {

struct Factory {
  const char* name;
  std::function<std::shared_ptr<agent::Tool>(const ToolsConfig&)> make;
};

// One row per built-in tool. Keep the order: it is the order the model sees them in.
const std::vector<Factory>& factories() {
  static const std::vector<Factory> table = {
      {"calculator", [](const ToolsConfig&) { return std::make_shared<CalculatorTool>(); }},
      {"search",
       [](const ToolsConfig& c) {
         return std::make_shared<SearchTool>(c.settings.value("search", Json::object()), c.workspace);
       }},
      {"open_url",
       [](const ToolsConfig& c) {
         return std::make_shared<OpenUrlTool>(
             c.settings.value("open_url", Json::object()),
             search_index_path(c.settings.value("search", Json::object()), c.workspace));
       }},
      {"http",
       [](const ToolsConfig& c) {
         return std::make_shared<HttpTool>(c.settings.value("http", Json::object()));
       }},
      {"interpreter",
       [](const ToolsConfig& c) {
         return std::make_shared<InterpreterTool>(
             InterpreterOptions::from_settings(c.settings.value("interpreter", Json::object()), c.workspace));
       }},
  };
  return table;
}

}  // namespace

std::vector<std::string> builtin_tool_names() {
  std::vector<std::string> names;
  for (const auto& f : factories()) names.emplace_back(f.name);
  return names;
}

std::shared_ptr<agent::Tool> make_tool(std::string_view name, const ToolsConfig& config) {
  for (const auto& f : factories()) {
    if (name == f.name) return f.make(config);
  }
  std::string known;
  for (const auto& f : factories()) known += (known.empty() ? "" : ", ") + std::string(f.name);
  throw std::invalid_argument("unknown tool '" + std::string(name) + "' (built-in tools: " + known + ")");
}

}  // namespace agentrt::tools
