// The host's side of the Python zygote: one warm /usr/bin/python3 per worker folder (sandbox/python/
// agentrt_zygote.py, with numpy, pandas, matplotlib, sympy and IPython imported), started on first use and
// kept for the program's life. Each Python session is cloned from it into its jail (CLONE_PARENT: the jailed
// process is this process's own child, waited for like a Lua worker). Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace agentrt::sandbox {

// Debian's interpreter: the one whose packages (python3-numpy, ...) scripts/setup-deps installs.
inline constexpr const char* kPythonExecutable = "/usr/bin/python3";

// The folder of the Python worker's files for a worker executable: agentrt-python/ next to it.
std::filesystem::path python_worker_folder(const std::filesystem::path& worker);

class PythonZygote {
 public:
  // The zygote for `folder` (created on first use; never destroyed: it ends when this program does, as its
  // control socket closes).
  static PythonZygote& shared(const std::filesystem::path& folder);

  // Starts the zygote now if it is not running (otherwise the first spawn does); throws std::runtime_error
  // saying why it could not.
  void start();
  // Clones a session: `request` is {"limits": ..., "jail": ...}; the descriptors become its session socket
  // and its workspace. Returns the jailed process's pid, a child of this process. Restarts a zygote that died
  // once. Throws std::runtime_error.
  pid_t spawn(const nlohmann::json& request, int session_fd, int workspace_fd);
  // The zygote's pid (-1 when not running) and how long its last start took.
  pid_t pid() const;
  std::chrono::milliseconds startup_time() const;

 private:
  explicit PythonZygote(std::filesystem::path folder);
  void start_locked();
  void stop_locked();

  std::filesystem::path folder_;
  mutable std::mutex mutex_;
  pid_t pid_ = -1;
  int control_ = -1;
  std::chrono::milliseconds startup_{0};
};

}  // namespace agentrt::sandbox
