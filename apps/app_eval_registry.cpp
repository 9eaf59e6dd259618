#include "apps/app_eval_registry.h"

#include <algorithm>
#include <utility>

namespace agentrt::apps {
namespace {
// A function-local static: registrars in other files may run before this file's statics are initialised.
std::vector<std::pair<int, EvalKindSetup>>& registry() {
  static std::vector<std::pair<int, EvalKindSetup>> kinds;
  return kinds;
}
}  // namespace

EvalKindRegistrar::EvalKindRegistrar(int order, EvalKindSetup setup) {
  registry().emplace_back(order, std::move(setup));
}

std::vector<EvalKindSetup> registered_eval_kinds() {
  auto sorted = registry();
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<EvalKindSetup> out;
  for (auto& [order, setup] : sorted) out.push_back(std::move(setup));
  return out;
}

}  // namespace agentrt::apps
