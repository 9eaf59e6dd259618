// The kinds of evaluation under `agentrt eval` (teval, synthetic). Each kind lives in its own
// app_eval_<kind>.cpp and adds itself as a subcommand of `eval` through an EvalKindRegistrar, the way
// top-level subcommands register through CommandRegistrar.
#pragma once

#include "apps/command.h"

namespace agentrt::apps {

// Creates the kind's subcommand (and its callback) on the `eval` command.
using EvalKindSetup = CommandSetup;
using EvalKindRegistrar = SubcommandRegistry<struct EvalKinds>::Registrar;
inline std::vector<EvalKindSetup> registered_eval_kinds() {
  return SubcommandRegistry<EvalKinds>::registered();
}

}  // namespace agentrt::apps
