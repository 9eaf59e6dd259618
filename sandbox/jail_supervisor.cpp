#include "sandbox/jail_supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/worker_protocol.h"

namespace agentrt::sandbox {
namespace {

constexpr int kWatchIntervalMs = 50;

void walk(int dir_fd, std::size_t max_entries, WorkspaceUsage& usage, int depth) {
  if (depth > 64) return;  // deeper folders are counted as entries of their parent, not walked
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    return;
  }
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (++usage.entries > max_entries) {
      usage.complete = false;
      break;
    }
    struct stat st {};
    if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    usage.bytes += static_cast<std::size_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode)) continue;
    int sub = ::openat(::dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 && errno == EACCES &&
        ::fchmodat(::dirfd(dir), e->d_name, (st.st_mode & 07777) | S_IRWXU, 0) == 0) {
      sub = ::openat(::dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (sub >= 0) walk(sub, max_entries, usage, depth + 1);
    if (!usage.complete) break;
  }
  ::closedir(dir);
}

}  // namespace

WorkspaceUsage workspace_usage(int dir_fd, std::size_t max_entries) {
  WorkspaceUsage usage;
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) walk(fd, max_entries, usage, 0);
  return usage;
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

void supervise(const SupervisorOptions& o) {
  const bool watch = o.workspace_fd >= 0 && o.max_growth > 0;
  const std::size_t start = watch ? workspace_usage(o.workspace_fd, o.max_entries).bytes : 0;
  std::string reason;
  int status = 0;
  while (true) {
    pollfd fds[2] = {{o.child_pidfd, POLLIN, 0}, {o.status_fd, 0, 0}};
    const int n = ::poll(fds, o.status_fd >= 0 ? 2 : 1, watch ? kWatchIntervalMs : -1);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[0].revents & POLLIN)) break;
    if (n > 0 && (fds[1].revents & (POLLHUP | POLLERR))) {
      // The host is gone (or closed the session): nothing may outlive it.
      ::kill(o.child, SIGKILL);
      break;
    }
    if (watch) {
      const WorkspaceUsage now = workspace_usage(o.workspace_fd, o.max_entries);
      if (!now.complete || now.bytes > start + o.max_growth) {
        reason = !now.complete ? "the code made more than " + std::to_string(o.max_entries) +
                                     " files and folders in the workspace"
                               : "the code wrote more than " + std::to_string(o.max_growth >> 20) +
                                     " MB into the workspace";
        ::kill(o.child, SIGKILL);
        break;
      }
    }
  }
  while (::waitpid(o.child, &status, 0) < 0 && errno == EINTR) {
  }
  if (o.status_fd >= 0) {
    const nlohmann::json end = {{"exit", describe_wait_status(status)}, {"reason", reason}};
    send_message(o.status_fd, end.dump());
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::signal(sig, SIG_DFL);
    ::kill(::getpid(), sig);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

}  // namespace agentrt::sandbox
