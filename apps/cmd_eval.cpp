// `agentrt eval KIND ...`: evaluates a model on a benchmark. The kinds (teval, ...) register themselves in
// app_eval_registry.h, each from its own app_eval_<kind>.cpp.
#include "apps/app_eval_registry.h"
#include "apps/command.h"

namespace agentrt::apps {
namespace {

const CommandRegistrar reg(50, [](CLI::App& app) {
  auto* cmd =
      app.add_subcommand("eval", "Evaluate a model on a benchmark (teval: T-Eval's six tool-use dimensions)");
  cmd->require_subcommand(1);
  for (const auto& setup : registered_eval_kinds()) setup(*cmd);
});

}  // namespace
}  // namespace agentrt::apps
