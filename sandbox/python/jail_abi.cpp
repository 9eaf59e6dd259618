// libagentrt_jail.so: the jail (worker_jail.h) as the Python zygote calls it through ctypes. A plain C ABI;
// no C++ exception ever leaves it: each becomes an error text in the caller's buffer.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/jail_config.h"
#include "sandbox/worker_jail.h"
#include "sandbox/worker_protocol.h"

namespace {

using namespace agentrt::sandbox;

// The workspace's number in the supervisor (after the session socket, kWorkerFd, and the status socket).
constexpr int kWorkspaceFd = kStatusFd + 1;

void put(char* out, std::size_t out_len, const std::string& text) {
  if (out == nullptr || out_len == 0) return;
  const std::size_t n = std::min(out_len - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

// Gives the three descriptors their numbers (3, 4, 5), points 0-2 at /dev/null (nothing of the session's may
// reach the host's stderr), and closes everything else the zygote held.
void place_descriptors(int session_fd, int status_fd, int workspace_fd) {
  const int s = ::fcntl(session_fd, F_DUPFD_CLOEXEC, 100);
  const int t = ::fcntl(status_fd, F_DUPFD_CLOEXEC, 100);
  const int w = ::fcntl(workspace_fd, F_DUPFD_CLOEXEC, 100);
  if (s < 0 || t < 0 || w < 0) throw std::runtime_error("cannot place the session's descriptors");
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || ::dup2(s, kWorkerFd) < 0 || ::dup2(t, kStatusFd) < 0 || ::dup2(w, kWorkspaceFd) < 0 ||
      ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(null, 2) < 0) {
    throw std::runtime_error("cannot place the session's descriptors");
  }
  close_descriptors_except(kWorkspaceFd + 1, {});
}

}  // namespace

extern "C" {

// Clones a jailed session from the calling (single-threaded) zygote. CLONE_PARENT makes the clone a child of
// the zygote's parent, the host, which waits for it like for a Lua worker. Returns the clone's pid in the
// zygote, 0 in the jailed session (`out` then holds the jail's report as JSON), -1 when the clone failed
// (`out` says why). A jail that cannot be built is reported to the host on the session socket, and the clone
// ends.
__attribute__((visibility("default"))) long agentrt_jail_spawn(const char* jail_json, int session_fd,
                                                               int status_fd, int workspace_fd, char* out,
                                                               std::size_t out_len) {
  const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    put(out, out_len, std::string("clone: ") + std::strerror(errno));
    return -1;
  }
  if (pid > 0) return pid;
  try {
    place_descriptors(session_fd, status_fd, workspace_fd);
    const auto config = nlohmann::json::parse(jail_json);
    JailOptions o = jail_options_from_json(config);
    o.workspace_fd = kWorkspaceFd;
    o.status_fd = kStatusFd;
    o.keep_fds = {kWorkerFd};
    const JailReport r = enter_jail(o);
    // Descriptors the zygote's libraries hold on /dev/null: the jail closed them; the same numbers point at
    // the jail's /dev/null again, so no library object owns a number the session's code may be given.
    for (const auto& fd : config.value("null_fds", nlohmann::json::array())) {
      const int n = fd.get<int>();
      if (n <= kWorkerFd) continue;
      const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (null >= 0 && null != n) {
        ::dup2(null, n);
        ::close(null);
      }
    }
    const nlohmann::json report = {
        {"isolation", to_string(r.isolation)}, {"landlock_abi", r.landlock_abi}, {"note", r.note}};
    put(out, out_len, report.dump());
    return 0;
  } catch (const std::exception& e) {
    write_frame(kWorkerFd, nlohmann::json({{"ready", false}, {"error", e.what()}}).dump());
  } catch (...) {
    write_frame(kWorkerFd, R"({"ready":false,"error":"the jail failed"})");
  }
  ::_exit(3);
}

// The zygote, once its imports are done: no new privileges, not dumpable. It keeps the host's id: a clone's
// supervisor needs root (where agentrt runs as root) to map the jail's ids and the workspace's. 0, or -1 with
// `out` saying why.
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
