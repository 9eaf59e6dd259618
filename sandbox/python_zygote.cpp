#include "sandbox/python_zygote.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "sandbox/spawn_process.h"
#include "sandbox/worker_protocol.h"

namespace agentrt::sandbox {
namespace {

// Importing numpy, pandas, matplotlib, sympy and IPython takes a few seconds, more on a loaded machine.
constexpr auto kStartTimeout = std::chrono::seconds(90);
constexpr auto kSpawnTimeout = std::chrono::seconds(20);
// The zygote's end of its control socket.
constexpr int kControlFd = 3;

}  // namespace

std::filesystem::path python_worker_folder(const std::filesystem::path& worker) {
  return worker.parent_path() / "agentrt-python";
}

PythonZygote& PythonZygote::shared(const std::filesystem::path& folder) {
  static std::mutex mutex;
  // Never destroyed: a zygote outlives every session that may still ask it for a clone during exit.
  static auto* zygotes = new std::map<std::string, std::unique_ptr<PythonZygote>>();
  std::lock_guard lock(mutex);
  auto& slot = (*zygotes)[folder.string()];
  if (!slot) slot.reset(new PythonZygote(folder));
  return *slot;
}

PythonZygote::PythonZygote(std::filesystem::path folder) : folder_(std::move(folder)) {}

pid_t PythonZygote::pid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

std::chrono::milliseconds PythonZygote::startup_time() const {
  std::lock_guard lock(mutex_);
  return startup_;
}

void PythonZygote::start() {
  std::lock_guard lock(mutex_);
  if (pid_ < 0) start_locked();
}

void PythonZygote::stop_locked() {
  if (control_ >= 0) ::close(control_);
  control_ = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

void PythonZygote::start_locked() {
  const auto script = folder_ / "agentrt_zygote.py";
  if (::access(script.c_str(), R_OK) != 0) {
    throw std::runtime_error("the Python worker " + script.string() + " is missing (build agentrt-sandbox)");
  }
  if (::access(kPythonExecutable, X_OK) != 0) {
    throw std::runtime_error(std::string(kPythonExecutable) +
                             " is missing: install Debian's python3 and its packages (scripts/setup-deps)");
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    throw std::runtime_error(std::string("python zygote: socketpair: ") + std::strerror(errno));
  }
  if (sv[1] == kControlFd) {
    const int moved = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    sv[1] = moved;
  }
  const std::string script_path = script.string();
  // -I: no PYTHON* variables, no user site; -B: no .pyc written. One thread for every numeric library: the
  // zygote must be single-threaded when it forks, and a session gets few threads.
  std::vector<char*> argv = {const_cast<char*>(kPythonExecutable), const_cast<char*>("-I"),
                             const_cast<char*>("-B"), const_cast<char*>(script_path.c_str()), nullptr};
  std::vector<char*> envp = {const_cast<char*>("LC_ALL=C.UTF-8"),
                             const_cast<char*>("HOME=/tmp"),
                             const_cast<char*>("MPLBACKEND=Agg"),
                             const_cast<char*>("OPENBLAS_NUM_THREADS=1"),
                             const_cast<char*>("OMP_NUM_THREADS=1"),
                             const_cast<char*>("MKL_NUM_THREADS=1"),
                             const_cast<char*>("NUMEXPR_NUM_THREADS=1"),
                             const_cast<char*>("PYTHONHASHSEED=0"),
                             nullptr};
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = spawn_process(kPythonExecutable, argv.data(), envp.data(), sv[1], kControlFd, "/", pid);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    throw std::runtime_error(std::string("cannot start ") + kPythonExecutable + ": " + std::strerror(rc));
  }
  pid_ = pid;
  control_ = sv[0];
  std::string reply;
  std::vector<int> fds;
  const ReadStatus status = read_message(control_, reply, fds, t0 + kStartTimeout);
  for (int fd : fds) ::close(fd);
  const auto j = nlohmann::json::parse(reply, nullptr, false);
  if (status != ReadStatus::Ok || !j.is_object() || !j.value("ready", false)) {
    const std::string why = j.is_object() ? j.value("error", std::string("no ready message"))
                            : status == ReadStatus::TimedOut ? "it did not get ready in time"
                                                             : "it stopped while starting";
    stop_locked();
    throw std::runtime_error("the Python zygote did not start: " + why);
  }
  startup_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

pid_t PythonZygote::spawn(const nlohmann::json& request, int session_fd, int workspace_fd) {
  std::lock_guard lock(mutex_);
  nlohmann::json message = request;
  message["op"] = "spawn";
  const std::string text = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (pid_ < 0) start_locked();
    if (!send_message(control_, text, {session_fd, workspace_fd})) {
      stop_locked();
      continue;
    }
    std::string reply;
    std::vector<int> fds;
    const ReadStatus status =
        read_message(control_, reply, fds, std::chrono::steady_clock::now() + kSpawnTimeout);
    for (int fd : fds) ::close(fd);
    if (status != ReadStatus::Ok) {
      stop_locked();
      if (status == ReadStatus::TimedOut) throw std::runtime_error("the Python zygote did not answer");
      continue;
    }
    const auto j = nlohmann::json::parse(reply, nullptr, false);
    if (!j.is_object()) throw std::runtime_error("the Python zygote sent a bad reply");
    if (j.contains("error")) throw std::runtime_error(j.value("error", std::string("spawn failed")));
    const pid_t pid = j.value("pid", -1);
    if (pid <= 0) throw std::runtime_error("the Python zygote sent no pid");
    return pid;
  }
  throw std::runtime_error("the Python zygote stopped");
}

}  // namespace agentrt::sandbox
