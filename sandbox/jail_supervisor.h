// The supervisor of one jailed interpreter: the process that cloned it stays outside its namespaces, with no
// privileges, and waits for it. It caps what the code adds to the workspace (bytes and entries, measured
// every few tens of milliseconds; one file is capped by RLIMIT_FSIZE in the jail itself), kills the jailed
// process when the host goes away, and finally tells the host how it ended.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace agentrt::sandbox {

struct WorkspaceUsage {
  std::size_t bytes = 0;    // allocated blocks of every file and folder (hard links counted each time)
  std::size_t entries = 0;  // files, folders and links
  bool complete = true;     // false when the walk stopped at `max_entries`
};

// Walks the folder `dir_fd` without following links. Folders the walk cannot open are given back their
// owner's read and search bits (the jailed code owns them) and walked again.
WorkspaceUsage workspace_usage(int dir_fd, std::size_t max_entries);

struct SupervisorOptions {
  pid_t child = -1;
  int child_pidfd = -1;
  int status_fd = -1;  // -1: no host to tell
  int workspace_fd = -1;
  std::size_t max_growth = 0;  // 0: no watch
  std::size_t max_entries = 0;
};

// Waits for the child, watching as above; sends {"exit": "..."} on the status socket, then ends this process
// the way the child ended (the same signal, or its exit status).
[[noreturn]] void supervise(const SupervisorOptions& options);

// "exit status N" / "signal N (name)" for a wait status.
std::string describe_wait_status(int status);

}  // namespace agentrt::sandbox
