// What jail this machine lets the workers build, asked once per worker executable: the host runs
// `agentrt-sandbox --probe-jail`, which builds the full jail around an empty folder and says whether the
// namespaces (user, mount, PID, IPC, UTS, network; a private /proc; pivot_root) and which Landlock ABI it
// got. The server reports it at start and in /health; Python needs the full jail unless the operator accepts
// less.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/worker_jail.h"

namespace agentrt::sandbox {

struct JailSupport {
  bool namespaces = false;
  int landlock_abi = 0;
  std::string detail;  // why not, in words ("" when everything worked)

  // Namespaces and Landlock: the jail Python requires.
  bool full() const { return namespaces && landlock_abi > 0; }
  // One line for people: "namespaces + Landlock ABI 7" or what is missing and why.
  std::string describe() const;
  nlohmann::json to_json() const;
};

// The probe's answer for `worker` (empty: find_worker_executable()), cached per path for the program's life.
// $AGENTRT_SANDBOX_NAMESPACES=off answers "no namespaces" without trying (for operators and tests). Never
// throws: a worker that cannot be found or run gives a JailSupport saying so.
JailSupport probe_jail_support(const std::filesystem::path& worker = {});

// Whether the environment turned namespaces off ($AGENTRT_SANDBOX_NAMESPACES=off).
bool namespaces_turned_off();

}  // namespace agentrt::sandbox
