// The host's watch over what jailed sessions add to their workspaces: one file is capped by RLIMIT_FSIZE in
// the jail itself, but only the host sees the whole folder. One background thread measures every watched
// workspace every few tens of milliseconds (bytes allocated and entries, links never followed) and kills the
// session's process when it grew past its cap, recording why. Thread-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace agentrt::sandbox {

struct WorkspaceUsage {
  std::size_t bytes = 0;    // allocated blocks of every file and folder (hard links counted each time)
  std::size_t entries = 0;  // files, folders and links
  bool complete = true;     // false when the walk stopped at `max_entries`
};

// Walks the folder `dir_fd` without following links.
WorkspaceUsage workspace_usage(int dir_fd, std::size_t max_entries);

class WorkspaceWatch {
 public:
  struct Entry;

  // Starts watching `workspace` for process `pid` (a child of this process): it may add `max_growth` bytes
  // and `max_entries` files and folders to what the folder holds now (0 bytes, or a folder already too large
  // to walk often: no watch). Keep the handle while the process lives; release it (unwatch) before waiting
  // for the process, so its pid is never signalled once reaped.
  static std::shared_ptr<Entry> watch(const std::filesystem::path& workspace, pid_t pid,
                                      std::size_t max_growth, std::size_t max_entries);
  static void unwatch(const std::shared_ptr<Entry>& entry);
  // Why the watch killed the process ("" when it did not).
  static std::string reason(const std::shared_ptr<Entry>& entry);
};

}  // namespace agentrt::sandbox
