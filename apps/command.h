// apps: the `agentrt` program. It wires tools, a backend and a session together; it may include every other
// folder, and nothing includes it. Each subcommand lives in its own cmd_*.cpp and registers itself here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace agentrt::apps {

// Adds one subcommand to the top-level app. The setup function creates the subcommand and its callback; the
// callback reports failures by throwing (std::exception → "agentrt: error: ..." and exit 1) or by throwing
// CommandExit for a chosen exit status.
using CommandSetup = std::function<void(CLI::App& app)>;

struct CommandRegistrar {
  // `order` fixes the position in --help.
  CommandRegistrar(int order, CommandSetup setup);
};

struct CommandExit {
  int status;
};

// The registered setups, in order.
std::vector<CommandSetup> registered_commands();

}  // namespace agentrt::apps
