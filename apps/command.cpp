#include "apps/command.h"

#include <algorithm>
#include <utility>

namespace agentrt::apps {
namespace {
std::vector<std::pair<int, CommandSetup>>& registry() {
  static std::vector<std::pair<int, CommandSetup>> commands;
  return commands;
}
}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup setup) {
  registry().emplace_back(order, std::move(setup));
}

std::vector<CommandSetup> registered_commands() {
  auto sorted = registry();
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<CommandSetup> out;
  for (auto& [order, setup] : sorted) out.push_back(setup);
  return out;
}

}  // namespace agentrt::apps
