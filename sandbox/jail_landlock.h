// Landlock, the jail's second file fence (independent of the mount namespace): read-only beneath the system
// paths, read-write beneath the workspace and /tmp, no TCP bind or connect (ABI 4), no signals to processes
// outside the jail and no abstract Unix sockets (ABI 6). Each right is asked for only where the kernel's ABI
// knows it.
#pragma once

#include <string>
#include <vector>

namespace agentrt::sandbox {

struct LandlockPaths {
  std::vector<std::string> read_only;   // files and folders: read, list, execute
  std::vector<std::string> read_write;  // folders: everything but execute
  std::vector<std::string> devices;     // device files: read and write, no ioctl
  std::vector<std::string> list_only;   // folders whose entries (and their folders') may be listed
};

// Restricts the calling thread (and what it starts later) to `paths`; needs no_new_privs set. Returns the ABI
// applied (0 when the kernel has no Landlock); paths that do not exist are skipped. Throws std::runtime_error
// when Landlock is there but the ruleset cannot be enforced.
int apply_landlock(const LandlockPaths& paths);

}  // namespace agentrt::sandbox
