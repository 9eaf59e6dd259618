// libagentrt_jail.so: the jail (worker_jail.h) as the Python zygote calls it through ctypes. A plain C ABI;
// no C++ exception ever leaves it: each becomes an error text in the caller's buffer.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/jail_config.h"
#include "sandbox/jail_mounts.h"
#include "sandbox/worker_jail.h"
#include "sandbox/worker_protocol.h"

namespace {

using namespace agentrt::sandbox;

void put(char* out, std::size_t out_len, const std::string& text) {
  if (out == nullptr || out_len == 0) return;
  const std::size_t n = std::min(out_len - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace

extern "C" {

// Clones a jailed session from the calling (single-threaded) zygote, as a child of the zygote's parent, the
// host, which waits for it like for a Lua worker. `session_fd` becomes the session's fd 3; `userns_fd` is the
// zygote's host_id_namespace (-1: none). Returns the clone's pid in the zygote, 0 in the jailed session
// (`out` then holds the jail's report as JSON), -1 when no clone was made (`out` says why). In the session, a
// jail that cannot be built throws inside: it is reported on the session socket, and the clone ends.
__attribute__((visibility("default"))) long agentrt_jail_spawn(const char* jail_json, int session_fd,
                                                               int workspace_fd, int userns_fd, char* out,
                                                               std::size_t out_len) {
  const int zygote_cwd = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  bool in_jail = false;
  try {
    const auto config = nlohmann::json::parse(jail_json);
    JailOptions o = jail_options_from_json(config);
    o.workspace_fd = workspace_fd;
    o.idmap_userns_fd = userns_fd;
    o.clone_parent = true;
    o.session_fd = session_fd;
    o.null_stdio = true;
    o.keep_fds = {kWorkerFd};
    for (const auto& fd : config.value("null_fds", nlohmann::json::array()))
      o.null_fds.push_back(fd.get<int>());
    const JailEntry entry = enter_jail(o);
    in_jail = entry.in_jail;
    if (!in_jail) {
      // The zygote: back to its own folder (the clone had to start in the workspace).
      if (zygote_cwd >= 0) (void)!::fchdir(zygote_cwd);
      if (zygote_cwd >= 0) ::close(zygote_cwd);
      return entry.pid;
    }
    const nlohmann::json report = {{"isolation", to_string(entry.report.isolation)},
                                   {"landlock_abi", entry.report.landlock_abi},
                                   {"note", entry.report.note}};
    put(out, out_len, report.dump());
    return 0;
  } catch (const std::exception& e) {
    if (::getpid() == 1 || in_jail) {
      write_frame(kWorkerFd, nlohmann::json({{"ready", false}, {"error", e.what()}}).dump());
      ::_exit(3);
    }
    put(out, out_len, e.what());
  } catch (...) {
    put(out, out_len, "the jail failed");
  }
  if (zygote_cwd >= 0) (void)!::fchdir(zygote_cwd);
  if (zygote_cwd >= 0) ::close(zygote_cwd);
  return -1;
}

// A user namespace mapping 0 to the jail's host id, opened once by a zygote running as root: every session's
// idmapped workspace uses it. The descriptor, or -1 (not root, or the kernel refused; `out` says why).
__attribute__((visibility("default"))) int agentrt_host_id_namespace(char* out, std::size_t out_len) {
  if (::geteuid() != 0) return -1;
  try {
    return host_id_namespace();
  } catch (const std::exception& e) {
    put(out, out_len, e.what());
  }
  return -1;
}

// The zygote, once its imports are done: no new privileges, not dumpable. It keeps the host's id: it writes
// each session's id maps and, for root, makes the workspace's idmapped mount. 0, or -1 with `out` saying why.
__attribute__((visibility("default"))) int agentrt_zygote_lock_down(char* out, std::size_t out_len) {
  try {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw std::runtime_error("PR_SET_NO_NEW_PRIVS failed");
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
  } catch (const std::exception& e) {
    put(out, out_len, e.what());
  } catch (...) {
    put(out, out_len, "the lock-down failed");
  }
  return -1;
}

}  // extern "C"
