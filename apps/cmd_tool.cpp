// `agentrt tool NAME 'JSON'`: runs one built-in tool directly. Exit status 0 whenever the tool ran, also when it
// reported an error to the model; 1 when it could not run (unknown tool, arguments that are not JSON).
#include <iostream>

#include "agent/tool_registry.h"
#include "apps/app_common.h"
#include "apps/command.h"

namespace agentrt::apps {
namespace {

struct ToolCmdFlags {
  ToolFlags tools;
  std::string name;
  std::string args = "{}";
  long long timeout_ms = 0;
};

const CommandRegistrar reg(40, [](CLI::App& app) {
  auto f = std::make_shared<ToolCmdFlags>();
  auto* cmd = app.add_subcommand("tool", "Run one built-in tool with JSON arguments and print its result as JSON");
  add_tool_flags(cmd, f->tools, false);
  cmd->add_option("--timeout-ms", f->timeout_ms, "Deadline of the call (default: the tool's own)");
  cmd->add_option("name", f->name, "Tool name (" + [] {
    std::string names;
    for (const auto& n : tools::builtin_tool_names()) names += (names.empty() ? "" : ", ") + n;
    return names;
  }() + ")")->required();
  cmd->add_option("arguments", f->args, "Arguments as a JSON object, e.g. '{\"expression\": \"2+2\"}'");
  cmd->callback([f] {
    const auto config = make_tools_config(f->tools);
    agent::ToolRegistry registry;
    auto tool = tools::make_tool(f->name, config);
    registry.add(tool);
    if (f->timeout_ms > 0) registry.set_timeout(f->name, std::chrono::milliseconds(f->timeout_ms));
    Json args = Json::parse(f->args, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
      throw std::invalid_argument("arguments must be a JSON object, e.g. '{\"expression\": \"2+2\"}'");
    }
    agent::Action action;
    action.channel = tool->channel();
    action.name = tool->name();
    if (tool->channel() == agent::Channel::Interpreter) {
      action.code = args.value("code", "");
      action.language = args.value("language", "");
    } else {
      action.arguments = args;
    }
    agent::ToolContext ctx;
    ctx.workspace = config.workspace;
    const auto result = registry.dispatch(action, ctx);
    std::cout << agent::to_json(result).dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  });
});

}  // namespace
}  // namespace agentrt::apps
