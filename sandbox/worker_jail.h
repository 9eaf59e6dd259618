// The jail every interpreter worker (Lua and Python) runs in, one implementation for both (docs/sandbox.md).
// A spawner (the Lua launcher, the Python zygote) clones the jailed process into its own user, mount, PID,
// IPC, UTS, cgroup and network namespaces (a down loopback only), as a child of the spawner's parent, the
// host (CLONE_PARENT: the host waits for it and kills it like any child of its own), and writes its id maps.
// The jailed process builds a minimal read-only root (the interpreter's files, a private /proc and /tmp, the
// workspace bound read-write and noexec at its host path), pivots into it, takes one unprivileged id, drops
// every capability, sets PR_SET_NO_NEW_PRIVS, fences the files again with Landlock where the kernel has it,
// sets rlimits and finally loads a seccomp allowlist (anything not listed answers EPERM).
//
// Where namespaces cannot be built (no user namespaces, a /proc that may not be mounted), a worker may use
// the "basic" jail instead: rlimits, the same seccomp allowlist, no_new_privs and Landlock when present.
#pragma once

#include <sys/types.h>
#include <cstddef>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

// 1 in a build under AddressSanitizer (GCC defines __SANITIZE_ADDRESS__; clang answers the feature test).
#if defined(__SANITIZE_ADDRESS__)
#define AGENTRT_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGENTRT_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef AGENTRT_ADDRESS_SANITIZER
#define AGENTRT_ADDRESS_SANITIZER 0
#endif

namespace agentrt::sandbox {

// Whether enter_jail limits the address space (RLIMIT_AS): not under ASan, whose shadow memory is a
// reservation of terabytes; the Lua allocator's cap bounds memory there (worker_jail.cpp).
inline constexpr bool kJailLimitsAddressSpace = AGENTRT_ADDRESS_SANITIZER == 0;

// The host's uid and gid of the jailed code when agentrt runs as root: an unprivileged id ("nobody").
inline constexpr unsigned kJailHostId = 65534;
// The uid and gid the code has inside its user namespace (the only ids mapped there).
inline constexpr unsigned kJailInnerId = 1000;
// The name the jail's UTS namespace gives its host.
inline constexpr const char* kJailHostname = "sandbox";

enum class Isolation {
  Basic,  // rlimits, seccomp allowlist, no_new_privs (and Landlock when present) in the host's namespaces
  Namespaces,  // the full jail
};
const char* to_string(Isolation isolation);

enum class NamespaceMode {
  Auto,     // build them; fall back to the basic jail when the kernel refuses (the Lua worker)
  Require,  // build them or fail (Python, unless the operator accepted less)
  Off,      // the basic jail only
};

struct JailOptions {
  // rlimits of the jailed process.
  std::size_t memory_bytes = std::size_t{256} << 20;
  // Address space beyond memory_bytes for code, libraries and stacks; 0: the caller's current size plus 64
  // MiB (a forked Python zygote already maps its libraries).
  std::size_t address_space_base = std::size_t{1} << 30;
  std::size_t max_file_bytes = std::size_t{16} << 20;
  int cpu_seconds = 600;  // over the worker's whole life: a runaway C call dies even if the host is stuck
  int max_open_files = 64;
  int max_threads = 0;  // threads beyond the main one (RLIMIT_NPROC counts them); fork is refused anyway

  NamespaceMode namespaces = NamespaceMode::Auto;
  bool require_landlock = false;
  // The session's folder: -1: the current folder. It appears inside the jail at `workspace` (empty: the
  // current folder's path), read-write, noexec.
  int workspace_fd = -1;
  std::filesystem::path workspace;
  std::size_t tmp_bytes = std::size_t{16} << 20;  // the jail's private /tmp (memory-backed)
  // The jailed process is a child of the spawner's parent (the host) rather than of the spawner.
  bool clone_parent = true;
  // Root on the host: a user namespace mapping 0 to kJailHostId (host_id_namespace), for the workspace's
  // idmapped mount; -1: made when needed.
  int idmap_userns_fd = -1;
  // Descriptors the jailed process keeps besides 0, 1 and 2; every other one is closed.
  std::vector<int> keep_fds;
  // In the jailed process: this descriptor becomes fd 3 (-1: it is there already); 0, 1 and 2 point at
  // /dev/null when null_stdio (nothing of the session's reaches the host's stderr); and each of null_fds
  // points at /dev/null again after the others were closed (numbers a library of the zygote holds open
  // there).
  int session_fd = -1;
  bool null_stdio = false;
  std::vector<int> null_fds;
};

struct JailReport {
  Isolation isolation = Isolation::Basic;
  int landlock_abi = 0;  // the Landlock ABI applied (0: none)
  std::string note;      // why the jail is less than full, in words ("" when full)
};

struct JailEntry {
  bool in_jail = false;  // true: this is the jailed process; false: the spawner, whose part is done
  pid_t pid = -1;        // the jailed process
  JailReport report;
};

// Jails a session. With namespaces: clones the jailed process (see JailOptions::clone_parent), calls
// `started` with its pid before it may go on (the host learns the pid before anything else from it), and
// returns in both: in the jailed process with in_jail set, in the spawner with the pid. In the basic jail:
// with clone_parent a plain sibling is cloned and jailed the same way; without, this very process is jailed
// (and `started` gets its own pid). Throws std::runtime_error when a required protection cannot be had (in
// the jailed process: it should report that and end).
JailEntry enter_jail(const JailOptions& options, const std::function<void(pid_t)>& started = {});

// Root on the host becomes kJailHostId (no supplementary groups, so no capabilities either); anyone else
// stays who they are.
void leave_host_root();

// The highest Landlock ABI the kernel offers (0: none).
int landlock_abi();

// Only the seccomp allowlist (the worker's self-test and the basic jail use it directly). Signals may go to
// this process only.
void load_syscall_filter();

// Closes every descriptor from `first` up except those in `keep`.
void close_descriptors_except(int first, const std::vector<int>& keep);

}  // namespace agentrt::sandbox
