// The jail every interpreter worker (Lua and Python) enters before it runs any code, one implementation for
// both (docs/sandbox.md). The process that calls enter_jail becomes the session's supervisor on the host
// side; it clones the jailed process into its own user, mount, PID, IPC, UTS, cgroup and network namespaces
// (a down loopback only), which builds a minimal read-only root (the interpreter's files, a private /proc and
// /tmp, the workspace bound read-write at its host path), pivots into it, runs as an unprivileged id with no
// capabilities and PR_SET_NO_NEW_PRIVS, fences the files again with Landlock where the kernel has it, sets
// rlimits and finally loads a seccomp allowlist (anything not listed answers EPERM). The supervisor waits for
// it, caps what it adds to the workspace, and tells the host how it ended.
//
// Where namespaces cannot be built (no user namespaces, a /proc that may not be mounted), a worker may fall
// back to the "basic" jail: rlimits, the same seccomp allowlist, no_new_privs and Landlock when present, in
// the calling process itself.
#pragma once

#include <cstddef>
#include <filesystem>
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
// The supervisor's end of the status socket (SOCK_SEQPACKET) to the host, set up by the host.
inline constexpr int kStatusFd = 4;
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
  // The supervisor kills the jailed process when the workspace grows by more than this many bytes or holds
  // more than max_workspace_entries files and folders (0: no watch).
  std::size_t max_workspace_growth = std::size_t{64} << 20;
  std::size_t max_workspace_entries = 20000;
  std::size_t tmp_bytes = std::size_t{16} << 20;  // the jail's private /tmp (memory-backed)
  // Where the supervisor reports the jailed process (its pidfd and pid, then how it ended); -1: nowhere.
  int status_fd = kStatusFd;
  // Descriptors the jailed process keeps besides 0, 1 and 2; every other one is closed.
  std::vector<int> keep_fds;
};

struct JailReport {
  Isolation isolation = Isolation::Basic;
  int landlock_abi = 0;  // the Landlock ABI applied (0: none)
  std::string note;      // why the jail is less than full, in words ("" when full)
};

// Jails the calling process's session. With namespaces it returns only in the jailed child: the caller
// becomes its supervisor and never returns. In the basic jail it returns in the calling process. Throws
// std::runtime_error when a required protection cannot be had.
JailReport enter_jail(const JailOptions& options);

// Root on the host becomes kJailHostId (no supplementary groups, so no capabilities either); anyone else
// stays who they are.
void leave_host_root();

// The highest Landlock ABI the kernel offers (0: none).
int landlock_abi();

// Only the seccomp allowlist (the worker's self-test, the basic jail and the supervisor use it directly).
// Signals may go to this process and to `signal_target` (0: none other).
void load_syscall_filter(int signal_target = 0);

// Closes every descriptor from `first` up except those in `keep`.
void close_descriptors_except(int first, const std::vector<int>& keep);

}  // namespace agentrt::sandbox
