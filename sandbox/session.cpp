#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/jail_config.h"
#include "sandbox/python_zygote.h"
#include "sandbox/sandbox.h"
#include "sandbox/spawn_process.h"
#include "sandbox/worker_protocol.h"
#include "sandbox/workspace_watch.h"

namespace agentrt::sandbox {
namespace fs = std::filesystem;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
// Files and folders a session may add to its workspace (its bytes are capped by the limits).
constexpr int kMaxWorkspaceEntries = 20000;

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

// The jail for these options: what the kernel allows, what the language requires, the caps of the limits.
JailOptions jail_for(const SessionOptions& o) {
  JailOptions j;
  j.memory_bytes = o.limits.memory_bytes;
  j.max_file_bytes = o.limits.max_file_bytes;
  j.workspace = o.workspace;
  const bool python = o.language == Language::Python;
  if (!o.use_namespaces || namespaces_turned_off()) {
    j.namespaces = NamespaceMode::Off;
  } else {
    j.namespaces = python && !o.allow_basic_jail ? NamespaceMode::Require : NamespaceMode::Auto;
  }
  j.require_landlock = python && !o.allow_basic_jail;
  // Pango and GLib start threads when the Lua worker draws its first PNG; on a loaded machine several are
  // alive at once (threads that finished but were not yet released still count against RLIMIT_NPROC), and a
  // thread GLib cannot create aborts the worker. With 4, 3 of 30 PNG cells aborted beside four busy loops.
  j.max_threads = 16;
  if (python) {
    j.address_space_base = 0;  // the zygote's own mappings plus room (worker_jail.h)
    j.max_open_files = 256;
  }
  return j;
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

const char* to_string(Language language) {
  return language == Language::Python ? "python" : "lua";
}

Language language_from_string(std::string_view text) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "lua") return Language::Lua;
  if (lower == "python") return Language::Python;
  throw std::invalid_argument("the interpreter language must be lua or python, not '" + std::string(text) +
                              "'");
}

void prepare_worker(Language language, const fs::path& worker) {
  if (language != Language::Python) return;
  PythonZygote::shared(python_worker_folder(find_worker_executable(worker))).start();
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

Isolation Session::isolation() const {
  std::lock_guard lock(mutex_);
  return isolation_;
}

void Session::start() {
  std::lock_guard lock(mutex_);
  if (pid_ < 0) spawn_locked();
}

namespace {

// Moves `fd` off 0..3 (the number the worker's socket is given), close-on-exec.
int above_worker_fd(int fd) {
  if (fd > kWorkerFd) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return moved;
}

pid_t spawn_lua(const SessionOptions& o, const JailOptions& jail, int session_fd) {
  const std::string worker = o.worker.string();
  const std::string limits = limits_json(o.limits).dump();
  const std::string jail_text = to_json(jail).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::vector<char*> argv = {const_cast<char*>(worker.c_str()),    const_cast<char*>("--limits"),
                             const_cast<char*>(limits.c_str()),    const_cast<char*>("--jail"),
                             const_cast<char*>(jail_text.c_str()), nullptr};
  // The worker gets no inherited environment: nothing secret to find even if the code escaped the language.
  std::vector<char*> envp = {const_cast<char*>("LC_ALL=C"), const_cast<char*>("HOME=/nonexistent"), nullptr};
  pid_t pid = -1;
  const int rc = spawn_process(worker.c_str(), argv.data(), envp.data(), session_fd, kWorkerFd,
                               o.workspace.c_str(), pid);
  if (rc != 0) throw std::runtime_error("sandbox: cannot start " + worker + ": " + std::strerror(rc));
  return pid;
}

void reap(pid_t pid, int* status_out = nullptr) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (status_out != nullptr) *status_out = status;
}

}  // namespace

void Session::spawn_locked() {
  const bool python = options_.language == Language::Python;
  JailOptions jail = jail_for(options_);
  if (jail.namespaces != NamespaceMode::Off) {
    // What the kernel allows here was found once by the probe: the sessions ask for that, no more.
    const JailSupport support = probe_jail_support(options_.worker);
    if (!support.namespaces) jail.namespaces = NamespaceMode::Off;
    if (python && !options_.allow_basic_jail && !support.full()) {
      throw std::runtime_error(
          "Python is refused here: it needs the full jail (user namespaces and Landlock) and this machine "
          "gives " +
          support.describe() + "; the operator may accept less with --interpreter-unsafe");
    }
  } else if (python && !options_.allow_basic_jail) {
    throw std::runtime_error(
        "Python is refused here: it needs the full jail and namespaces are turned off; the operator may "
        "accept "
        "less with --interpreter-unsafe");
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw std::runtime_error("sandbox: socketpair failed");
  }
  // dup2 onto the same number would keep close-on-exec set: keep the worker's end off its fd number.
  sv[1] = above_worker_fd(sv[1]);
  const auto deadline = [] { return std::chrono::steady_clock::now() + kStartTimeout; };
  pid_t pid = -1;
  try {
    if (python) {
      const int ws = ::open(options_.workspace.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (ws < 0)
        throw std::runtime_error("sandbox: cannot open the workspace " + options_.workspace.string());
      const nlohmann::json request = {{"limits", limits_json(options_.limits)}, {"jail", to_json(jail)}};
      try {
        pid = PythonZygote::shared(python_worker_folder(options_.worker)).spawn(request, sv[1], ws);
      } catch (...) {
        ::close(ws);
        throw;
      }
      ::close(ws);
    } else {
      // The launcher tells the jailed process's pid first (its own in the basic jail), then ends (or is it).
      const pid_t launcher = spawn_lua(options_, jail, sv[1]);
      std::string text;
      const ReadStatus status = read_frame(sv[0], text, deadline());
      const auto j = nlohmann::json::parse(text, nullptr, false);
      pid = status == ReadStatus::Ok && j.is_object() ? j.value("pid", -1) : -1;
      if (pid != launcher) reap(launcher);
      if (pid <= 0) {
        const std::string why =
            j.is_object() ? j.value("error", std::string("no pid")) : std::string("it sent nothing");
        throw std::runtime_error("sandbox: the worker did not start: " + why);
      }
    }
  } catch (...) {
    ::close(sv[0]);
    ::close(sv[1]);
    throw;
  }
  ::close(sv[1]);
  pid_ = pid;
  socket_ = sv[0];
  ++started_;
  watch_ = WorkspaceWatch::watch(options_.workspace, pid_, options_.limits.max_total_written_bytes,
                                 static_cast<std::size_t>(kMaxWorkspaceEntries));
  std::string reply;
  const ReadStatus status = read_frame(socket_, reply, deadline());
  const nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  if (status != ReadStatus::Ok || !j.is_object() || !j.value("ready", false)) {
    const std::string why =
        j.is_object() ? j.value("error", std::string("no ready message")) : "no ready message";
    stop_worker_locked();
    throw std::runtime_error("sandbox: the worker did not start: " + why);
  }
  isolation_ =
      j.value("isolation", std::string("basic")) == "namespaces" ? Isolation::Namespaces : Isolation::Basic;
}

// Kills the worker (when running) and waits for it; returns its wait status.
int Session::end_worker_locked() {
  WorkspaceWatch::unwatch(watch_);
  int status = 0;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(pid_, &status);
  }
  pid_ = -1;
  return status;
}

void Session::stop_worker_locked() {
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  end_worker_locked();
  watch_.reset();
}

CellResult Session::worker_lost_locked(const std::string& why) {
  std::string how = why;
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  // Whatever state it is in, this worker is given up: still running, it is killed first.
  const std::string watched = WorkspaceWatch::reason(watch_);
  WorkspaceWatch::unwatch(watch_);
  int status = 0;
  bool reaped = false;
  if (pid_ > 0) {
    // It may be ending on its own: its own end says more than our kill.
    for (int i = 0; i < 200 && !reaped; ++i) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      reaped = r == pid_;
      if (!reaped) ::usleep(500);
    }
    if (!reaped) status = end_worker_locked();
    pid_ = -1;
  }
  watch_.reset();
  if (how.empty()) how = watched;
  if (how.empty() && (reaped || status != 0)) {
    if (WIFSIGNALED(status)) {
      const int sig = WTERMSIG(status);
      const char* name = ::sigabbrev_np(sig);
      how = "the interpreter process was stopped by signal " + std::to_string(sig) +
            (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
    } else if (WIFEXITED(status)) {
      how = "the interpreter process exited with status " + std::to_string(WEXITSTATUS(status));
    }
  }
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
  // The cell's clock starts once a worker is there (a first Python worker may wait for its zygote).
  const auto start = std::chrono::steady_clock::now();
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
      // A worker that reset its own state (Python whose memory stayed full) ends; the next cell starts anew.
      if (result.state_reset && pid_ > 0) stop_worker_locked();
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
