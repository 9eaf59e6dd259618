#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"
#include "sandbox/worker_protocol.h"

namespace agentrt::sandbox {
namespace fs = std::filesystem;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

// Time the worker gets past the cell's deadline to stop itself before the host kills it.
std::chrono::milliseconds kill_grace(std::chrono::milliseconds timeout) {
  return std::chrono::milliseconds(500) + timeout / 10;
}

nlohmann::json limits_json(const Limits& l) {
  return {{"timeout_ms", l.timeout.count()},
          {"memory_bytes", l.memory_bytes},
          {"max_instructions", l.max_instructions},
          {"max_output_bytes", l.max_output_bytes},
          {"max_string_bytes", l.max_string_bytes},
          {"max_file_bytes", l.max_file_bytes},
          {"max_total_written_bytes", l.max_total_written_bytes},
          {"max_files", l.max_files},
          {"max_source_bytes", l.max_source_bytes}};
}

fs::path self_directory() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

fs::path find_worker_executable(const fs::path& explicit_path) {
  std::vector<fs::path> tried;
  auto usable = [&](const fs::path& p) {
    tried.push_back(p);
    return ::access(p.c_str(), X_OK) == 0;
  };
  if (!explicit_path.empty()) {
    if (usable(explicit_path)) return explicit_path;
    throw std::runtime_error("the sandbox worker " + explicit_path.string() +
                             " does not exist or is not executable");
  }
  if (const char* env = std::getenv("AGENTRT_SANDBOX_WORKER"); env != nullptr && *env != '\0') {
    if (usable(env)) return env;
  }
  const fs::path dir = self_directory();
  if (!dir.empty()) {
    for (const fs::path& candidate : {dir / "agentrt-sandbox", dir / ".." / "bin" / "agentrt-sandbox",
                                      dir / ".." / ".." / "bin" / "agentrt-sandbox"}) {
      if (usable(candidate)) return fs::weakly_canonical(candidate);
    }
  }
  std::string where;
  for (const auto& p : tried) where += (where.empty() ? "" : ", ") + p.string();
  throw std::runtime_error("cannot find the sandbox worker agentrt-sandbox (looked at: " + where +
                           "); set AGENTRT_SANDBOX_WORKER or pass its path");
}

Session::Session(SessionOptions options) : options_(std::move(options)) {
  if (options_.workspace.empty()) throw std::invalid_argument("sandbox session: no workspace folder given");
  std::error_code ec;
  fs::create_directories(options_.workspace, ec);
  options_.workspace = fs::absolute(options_.workspace);
  options_.worker = find_worker_executable(options_.worker);
}

Session::~Session() {
  std::lock_guard lock(mutex_);
  stop_worker_locked();
}

pid_t Session::worker_pid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

int Session::workers_started() const {
  std::lock_guard lock(mutex_);
  return started_;
}

void Session::start() {
  std::lock_guard lock(mutex_);
  if (pid_ < 0) spawn_locked();
}

void Session::spawn_locked() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw std::runtime_error("sandbox: socketpair failed");
  }
  // dup2 onto the same number would keep close-on-exec set: make sure the worker's end is not already fd 3.
  if (sv[1] == kWorkerFd) {
    const int moved = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    sv[1] = moved;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], kWorkerFd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, options_.workspace.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  const std::string worker = options_.worker.string();
  const std::string limits = limits_json(options_.limits).dump();
  std::vector<char*> argv = {const_cast<char*>(worker.c_str()), const_cast<char*>("--limits"),
                             const_cast<char*>(limits.c_str()), nullptr};
  // The worker gets no inherited environment: nothing secret to find even if the code escaped the language.
  std::vector<char*> envp = {const_cast<char*>("LC_ALL=C"), const_cast<char*>("HOME=/nonexistent"), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, worker.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    throw std::runtime_error("sandbox: cannot start " + worker + ": " + std::strerror(rc));
  }
  pid_ = pid;
  socket_ = sv[0];
  ++started_;
  std::string reply;
  const ReadStatus status = read_frame(socket_, reply, std::chrono::steady_clock::now() + kStartTimeout);
  nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  if (status != ReadStatus::Ok || !j.is_object() || !j.value("ready", false)) {
    const std::string why =
        j.is_object() ? j.value("error", std::string("no ready message")) : "no ready message";
    stop_worker_locked();
    throw std::runtime_error("sandbox: the worker did not start: " + why);
  }
}

void Session::stop_worker_locked() {
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

CellResult Session::worker_lost_locked(const std::string& why) {
  int status = 0;
  std::string how = why;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    if (::waitpid(pid_, &status, 0) == pid_ && why.empty()) {
      if (WIFSIGNALED(status)) {
        how = "the interpreter process was stopped by signal " + std::to_string(WTERMSIG(status));
      } else if (WIFEXITED(status)) {
        how = "the interpreter process exited with status " + std::to_string(WEXITSTATUS(status));
      }
    }
    pid_ = -1;
  }
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  CellResult r;
  r.ok = false;
  r.state_reset = true;
  r.failure = Failure::Crashed;
  r.error = (how.empty() ? std::string("the interpreter process stopped") : how) +
            "; the interpreter state was reset";
  return r;
}

CellResult Session::run(std::string_view code, std::optional<std::chrono::milliseconds> timeout) {
  std::lock_guard lock(mutex_);
  const auto start = std::chrono::steady_clock::now();
  const std::chrono::milliseconds limit = timeout.value_or(options_.limits.timeout);
  if (pid_ < 0) {
    try {
      spawn_locked();
    } catch (const std::exception& e) {
      CellResult r;
      r.ok = false;
      r.failure = Failure::Crashed;
      r.error = e.what();
      return r;
    }
  }
  const nlohmann::json request = {{"op", "run"}, {"code", std::string(code)}, {"timeout_ms", limit.count()}};
  CellResult result;
  if (!write_frame(socket_, request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))) {
    result = worker_lost_locked("");
  } else {
    std::string reply;
    const ReadStatus status = read_frame(socket_, reply, start + limit + kill_grace(limit));
    if (status == ReadStatus::TimedOut) {
      stop_worker_locked();
      result.ok = false;
      result.failure = Failure::Killed;
      result.state_reset = true;
      result.error = kKilledMessage;
    } else if (status != ReadStatus::Ok) {
      result = worker_lost_locked("");
    } else {
      const nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
      result =
          j.is_object() ? CellResult::from_json(j) : worker_lost_locked("the interpreter sent a bad reply");
    }
  }
  result.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void Session::reset() {
  std::lock_guard lock(mutex_);
  if (pid_ < 0) return;
  if (!write_frame(socket_, R"({"op":"reset"})")) {
    stop_worker_locked();
    return;
  }
  std::string reply;
  if (read_frame(socket_, reply, std::chrono::steady_clock::now() + kStartTimeout) != ReadStatus::Ok) {
    stop_worker_locked();
  }
}

}  // namespace agentrt::sandbox
