// apps: the `agentrt` program. It wires tools, a backend and a session together; it may include every other
// folder, and nothing includes it. Each subcommand lives in its own cmd_*.cpp and registers itself here.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace agentrt::apps {

// Creates one subcommand on a parent command (the top-level app, or `eval`) with its callback. The callback
// reports failures by throwing (std::exception → "agentrt: error: ..." and exit 1) or by throwing CommandExit
// for a chosen exit status.
using CommandSetup = std::function<void(CLI::App& parent)>;

struct CommandExit {
  int status;
};

// Setups that files register from static objects, handed out by `order` (their position in --help). One
// registry per parent command, told apart by `Parent`.
template <typename Parent>
class SubcommandRegistry {
 public:
  struct Registrar {
    Registrar(int order, CommandSetup setup) { entries().emplace_back(order, std::move(setup)); }
  };
  static std::vector<CommandSetup> registered() {
    auto sorted = entries();
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<CommandSetup> out;
    for (auto& [order, setup] : sorted) out.push_back(std::move(setup));
    return out;
  }

 private:
  // A function-local static: registrars in other files may run before any file's statics are initialised.
  static std::vector<std::pair<int, CommandSetup>>& entries() {
    static std::vector<std::pair<int, CommandSetup>> list;
    return list;
  }
};

// The top-level subcommands.
using CommandRegistrar = SubcommandRegistry<struct TopLevel>::Registrar;
inline std::vector<CommandSetup> registered_commands() {
  return SubcommandRegistry<TopLevel>::registered();
}

}  // namespace agentrt::apps
