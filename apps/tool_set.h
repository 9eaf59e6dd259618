// The tools an agent run is offered, and the one place their registry is built: `agentrt run`, `agentrt eval
// synthetic` and the server's agent runs all go through make_registry, so each gets the same built-in tools,
// settings and MCP tools for the same flags.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/schema.h"
#include "agent/tool_registry.h"

namespace agentrt::apps {

struct ToolSet {
  std::vector<std::string> builtin;  // built-in tools by name, in the order the model is offered them
  Json settings = Json::object();    // per-tool settings: {"<tool>": {...}} (--tools-config)
  // Tools loaded once for the whole program (the MCP servers'), shared by every registry built from the set.
  std::vector<std::shared_ptr<agent::Tool>> shared;

  // Every tool name of the set, built-in first.
  std::vector<std::string> names() const;
};

// Every built-in tool, no settings, nothing shared.
ToolSet every_builtin_tool();

// The built-in tools a --tools value names: "" is every built-in tool, "none" is none, else a comma-separated
// list. Throws std::invalid_argument naming an unknown tool and listing the known ones.
std::vector<std::string> parse_tool_list(const std::string& list);

// A registry of the set's tools whose files live in `workspace`. With `only`, just the tools it names, in its
// order (each must be in the set; throws std::invalid_argument otherwise).
std::unique_ptr<agent::ToolRegistry> make_registry(const ToolSet& set,
                                                   const std::filesystem::path& workspace);
std::unique_ptr<agent::ToolRegistry> make_registry(const ToolSet& set, const std::filesystem::path& workspace,
                                                   const std::vector<std::string>& only);

}  // namespace agentrt::apps
