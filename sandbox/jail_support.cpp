#include "sandbox/jail_support.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "sandbox/sandbox.h"

namespace agentrt::sandbox {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(20);

// Runs the probe in a fresh temporary folder and returns what it printed.
std::string run_probe(const std::filesystem::path& worker, std::string& error) {
  std::string folder = (std::filesystem::temp_directory_path() / "agentrt-jail-probe-XXXXXX").string();
  if (::mkdtemp(folder.data()) == nullptr) {
    error = std::string("mkdtemp: ") + std::strerror(errno);
    return "";
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    ::rmdir(folder.c_str());
    return "";
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addchdir_np(&actions, folder.c_str());
  const std::string path = worker.string();
  char* argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("--probe-jail"), nullptr};
  char* envp[] = {const_cast<char*>("LC_ALL=C"), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string text;
  if (rc != 0) {
    error = "cannot run " + path + ": " + std::strerror(rc);
  } else {
    const auto deadline = std::chrono::steady_clock::now() + kProbeTimeout;
    char buf[1024];
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{out[0], POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
        error = "the probe did not answer";
        ::kill(pid, SIGKILL);
        break;
      }
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::close(out[0]);
  std::error_code ec;
  std::filesystem::remove_all(folder, ec);
  return text;
}

}  // namespace

std::string JailSupport::describe() const {
  std::string s = namespaces ? "namespaces" : "no namespaces";
  s += landlock_abi > 0 ? " + Landlock ABI " + std::to_string(landlock_abi) : " + no Landlock";
  s += " + seccomp allowlist + rlimits";
  if (!detail.empty()) s += " (" + detail + ")";
  return s;
}

nlohmann::json JailSupport::to_json() const {
  return {{"namespaces", namespaces}, {"landlock_abi", landlock_abi}, {"full", full()}, {"detail", detail}};
}

bool namespaces_turned_off() {
  const char* v = std::getenv("AGENTRT_SANDBOX_NAMESPACES");
  return v != nullptr && std::strcmp(v, "off") == 0;
}

JailSupport probe_jail_support(const std::filesystem::path& worker_hint) {
  static std::mutex mutex;
  static std::map<std::string, JailSupport> cache;
  JailSupport support;
  std::filesystem::path worker;
  try {
    worker = find_worker_executable(worker_hint);
  } catch (const std::exception& e) {
    support.landlock_abi = landlock_abi();
    support.detail = e.what();
    return support;
  }
  const bool off = namespaces_turned_off();
  const std::string key = worker.string() + (off ? "\noff" : "");
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (off) {
    support.landlock_abi = landlock_abi();
    support.detail = "namespaces turned off by AGENTRT_SANDBOX_NAMESPACES=off";
  } else {
    std::string error;
    const std::string text = run_probe(worker, error);
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object()) {
      support.namespaces = j.value("namespaces", false);
      support.landlock_abi = j.value("landlock_abi", 0);
      support.detail = j.value("detail", std::string());
    } else {
      support.landlock_abi = landlock_abi();
      support.detail = error.empty() ? "the jail probe gave no answer" : error;
    }
  }
  cache[key] = support;
  return support;
}

}  // namespace agentrt::sandbox
