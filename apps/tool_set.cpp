#include "apps/tool_set.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "tools/tools.h"

namespace agentrt::apps {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return list;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::vector<std::string> ToolSet::names() const {
  std::vector<std::string> out = builtin;
  for (const auto& t : shared) out.push_back(t->name());
  return out;
}

ToolSet every_builtin_tool() {
  return ToolSet{tools::builtin_tool_names(), Json::object(), {}};
}

std::vector<std::string> parse_tool_list(const std::string& list) {
  const auto known = tools::builtin_tool_names();
  if (list.empty()) return known;
  std::vector<std::string> names;
  if (list == "none") return names;
  std::stringstream ss(list);
  for (std::string name; std::getline(ss, name, ',');) {
    if (name.empty()) continue;
    if (!contains(known, name)) {
      throw std::invalid_argument("unknown tool '" + name + "' (built-in tools: " + joined(known) + ")");
    }
    if (!contains(names, name)) names.push_back(name);
  }
  return names;
}

std::unique_ptr<agent::ToolRegistry> make_registry(const ToolSet& set,
                                                   const std::filesystem::path& workspace) {
  return make_registry(set, workspace, set.names());
}

std::unique_ptr<agent::ToolRegistry> make_registry(const ToolSet& set, const std::filesystem::path& workspace,
                                                   const std::vector<std::string>& only) {
  const auto offered = set.names();
  for (const auto& name : only) {
    if (!contains(offered, name)) {
      throw std::invalid_argument("unknown tool '" + name + "' (tools offered: " +
                                  (offered.empty() ? std::string("none") : joined(offered)) + ")");
    }
  }
  tools::ToolsConfig config;
  config.workspace = workspace;
  config.settings = set.settings;
  auto registry = std::make_unique<agent::ToolRegistry>();
  for (const auto& name : only) {
    if (registry->find(name)) continue;
    if (contains(set.builtin, name)) {
      registry->add(tools::make_tool(name, config));
      continue;
    }
    for (const auto& tool : set.shared) {
      if (tool->name() == name) registry->add(tool);
    }
  }
  return registry;
}

}  // namespace agentrt::apps
