// The kinds of evaluation under `agentrt eval` (teval, and later others such as synthetic tasks). Each kind
// lives in its own app_eval_<kind>.cpp and adds itself as a subcommand of `eval` through an
// EvalKindRegistrar, the way top-level subcommands register through CommandRegistrar.
#pragma once

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

namespace agentrt::apps {

// Creates the kind's subcommand (and its callback) on the `eval` command.
using EvalKindSetup = std::function<void(CLI::App& eval)>;

struct EvalKindRegistrar {
  // `order` fixes the position in `agentrt eval --help`.
  EvalKindRegistrar(int order, EvalKindSetup setup);
};

// The registered setups, in order.
std::vector<EvalKindSetup> registered_eval_kinds();

}  // namespace agentrt::apps
