#include "sandbox/workspace_watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace agentrt::sandbox {
namespace {

constexpr auto kInterval = std::chrono::milliseconds(50);
// A workspace holding more than this many entries when the session starts is not watched (each look would
// walk it all); its files stay capped one by one.
constexpr std::size_t kMaxWatchable = 50000;

void walk(int dir_fd, std::size_t max_entries, WorkspaceUsage& usage, int depth) {
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
    if (!S_ISDIR(st.st_mode) || depth >= 64) continue;
    const int sub = ::openat(::dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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

struct WorkspaceWatch::Entry {
  int dir_fd = -1;
  pid_t pid = -1;
  std::size_t limit_bytes = 0;
  std::size_t max_entries = 0;
  std::string reason;
  ~Entry() {
    if (dir_fd >= 0) ::close(dir_fd);
  }
};

namespace {

class Watcher {
 public:
  // Never destroyed: a Session held in a static (the server's, a fuzz target's) may end after the program's
  // other statics, and it unwatches then. The thread ends with the process.
  static Watcher& get() {
    static Watcher* const watcher = new Watcher;
    return *watcher;
  }
  void add(const std::shared_ptr<WorkspaceWatch::Entry>& e) {
    std::lock_guard lock(mutex_);
    entries_.push_back(e);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    wake_.notify_all();
  }
  void remove(const std::shared_ptr<WorkspaceWatch::Entry>& e) {
    std::lock_guard lock(mutex_);
    entries_.erase(std::remove(entries_.begin(), entries_.end(), e), entries_.end());
  }
  std::string reason(const std::shared_ptr<WorkspaceWatch::Entry>& e) {
    std::lock_guard lock(mutex_);
    return e->reason;
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      if (entries_.empty()) {
        wake_.wait(lock);
        continue;
      }
      // Measured under the lock: an entry removed meanwhile is never signalled.
      for (const auto& e : entries_) {
        if (e->pid <= 0 || !e->reason.empty()) continue;
        const WorkspaceUsage now = workspace_usage(e->dir_fd, e->max_entries);
        if (now.complete && now.bytes <= e->limit_bytes) continue;
        e->reason = !now.complete
                        ? "the workspace grew past " + std::to_string(e->max_entries) + " files and folders"
                        : "the code wrote more than " + std::to_string((e->limit_bytes >> 20)) +
                              " MB into the workspace";
        ::kill(e->pid, SIGKILL);
      }
      wake_.wait_for(lock, kInterval);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<WorkspaceWatch::Entry>> entries_;
  std::thread thread_;
};

}  // namespace

std::shared_ptr<WorkspaceWatch::Entry> WorkspaceWatch::watch(const std::filesystem::path& workspace,
                                                             pid_t pid, std::size_t max_growth,
                                                             std::size_t max_entries) {
  auto e = std::make_shared<Entry>();
  e->dir_fd = ::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (e->dir_fd < 0 || max_growth == 0) return e;  // nothing to watch
  const WorkspaceUsage start = workspace_usage(e->dir_fd, kMaxWatchable);
  if (!start.complete) return e;
  e->pid = pid;
  e->max_entries = start.entries + max_entries;
  e->limit_bytes = start.bytes + max_growth;
  Watcher::get().add(e);
  return e;
}

void WorkspaceWatch::unwatch(const std::shared_ptr<Entry>& entry) {
  if (entry) Watcher::get().remove(entry);
}

std::string WorkspaceWatch::reason(const std::shared_ptr<Entry>& entry) {
  return entry ? Watcher::get().reason(entry) : std::string();
}

}  // namespace agentrt::sandbox
