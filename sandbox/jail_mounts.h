// The jail's file system: a minimal read-only root in a tmpfs (the system paths the interpreters need, bound
// read-only from the host), a private /proc of the jail's PID namespace, a private size-capped /tmp, a few
// device files, and the workspace bound read-write (noexec) at the path it has on the host. Built by the
// jailed child in its own mount namespace, which then pivots into it.
#pragma once

#include <cstddef>
#include <string>

#include "sandbox/jail_landlock.h"

namespace agentrt::sandbox {

// Builds the root and pivots into it; the workspace becomes `workspace` inside, and the process's current
// folder: `idmapped_fd` when it is a mount made by idmapped_workspace (moved in), else a bind of
// `workspace_fd` (opened in this mount namespace). Needs CAP_SYS_ADMIN over its mount namespace. Throws
// std::runtime_error naming the step that failed.
void build_jail_root(int workspace_fd, int idmapped_fd, const std::string& workspace, std::size_t tmp_bytes);

// A user namespace whose root is kJailHostId outside, as a descriptor: the id map of the workspace's mount
// for root on the host. Made by a child sharing this process's memory (no copy of its page tables) that lives
// just long enough for its namespace to be opened. Throws std::runtime_error.
int host_id_namespace();

// For root on the host, whose jail runs as kJailHostId: a detached copy of the workspace's mount whose files
// owned by root appear owned by kJailHostId (an idmapped mount, through `userns_fd` or a namespace made here
// when -1), so the jail reads and writes them and what it creates is root's on disk, with no ownership
// changed. Returns the mount's descriptor, or -1 with `why` set when the kernel or the file system cannot
// (the jail then sees the workspace as it is).
int idmapped_workspace(int workspace_fd, int userns_fd, std::string& why);

// What Landlock allows inside that root.
LandlockPaths jail_landlock_paths(const std::string& workspace);
// What Landlock allows when there is no jail root (the basic jail): the system paths the interpreters read
// and the workspace, read-write.
LandlockPaths basic_landlock_paths(const std::string& workspace);

}  // namespace agentrt::sandbox
