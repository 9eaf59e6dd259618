#include "tools/mcp_stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace agentrt::tools {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kStderrTail = 4096;
constexpr std::size_t kMaxLine = 64 * 1024 * 1024;

int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Writes to a pipe whose reader may be gone without the process dying of SIGPIPE: the signal is blocked on
// this thread for the write and a pending one is consumed.
ssize_t write_no_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = ::write(fd, data, size);
  const int saved = errno;
  if (n < 0 && saved == EPIPE) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return n;
}

}  // namespace

StdioTransport::StdioTransport(const StdioServerSpec& spec) : command_(spec.command) {
  if (spec.command.empty()) throw McpError(McpError::Kind::Start, "no command to start");
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0)
    throw McpError(McpError::Kind::Start, "pipe: " + std::string(strerror(errno)));
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw McpError(McpError::Kind::Start, "pipe: " + std::string(strerror(errno)));
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    throw McpError(McpError::Kind::Start, "pipe: " + std::string(strerror(errno)));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty_mask, default_signals;
  sigemptyset(&empty_mask);
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  posix_spawnattr_setsigdefault(&attr, &default_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_store{spec.command};
  argv_store.insert(argv_store.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    const bool replaced =
        std::any_of(spec.env.begin(), spec.env.end(), [&](const auto& kv) { return kv.first == name; });
    if (!replaced) env_store.emplace_back(entry);
  }
  for (const auto& [k, v] : spec.env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int rc = posix_spawnp(&pid_, spec.command.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  to_child_ = in_pipe[1];
  from_child_ = out_pipe[0];
  child_err_ = err_pipe[0];
  if (rc != 0) {
    pid_ = -1;
    close_fd(to_child_);
    close_fd(from_child_);
    close_fd(child_err_);
    throw McpError(McpError::Kind::Start, "cannot start '" + spec.command + "': " + strerror(rc));
  }
  for (int fd : {to_child_, from_child_, child_err_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

StdioTransport::~StdioTransport() {
  stop();
}

void StdioTransport::stop() {
  close_fd(to_child_);  // EOF on stdin: a well-behaved server exits by itself
  if (pid_ > 0) {
    auto reaped = [&](std::chrono::milliseconds within) {
      const auto until = Clock::now() + within;
      do {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      } while (Clock::now() < until);
      return false;
    };
    if (!reaped(std::chrono::milliseconds(300))) {
      ::kill(-pid_, SIGTERM);  // the server's own process group: it and what it started
      if (!reaped(std::chrono::milliseconds(700))) {
        ::kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
    ::kill(-pid_, SIGKILL);  // leftovers of the group (children that outlived their parent)
    pid_ = -1;
  }
  close_fd(from_child_);
  close_fd(child_err_);
}

std::string StdioTransport::stderr_tail() const {
  std::string tail = err_tail_;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  if (tail.empty()) return "";
  if (auto nl = tail.rfind('\n', tail.size() > 600 ? tail.size() - 600 : 0);
      nl != std::string::npos && tail.size() > 600) {
    tail = tail.substr(nl + 1);
  }
  return "; its last output on stderr: " + tail;
}

void StdioTransport::fail_closed(const std::string& what) {
  std::string status = "";
  if (pid_ > 0) {
    int st = 0;
    pid_t r = 0;
    for (int i = 0; i < 50 && (r = waitpid(pid_, &st, WNOHANG)) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (r == pid_) {
      if (WIFEXITED(st)) status = " (exit status " + std::to_string(WEXITSTATUS(st)) + ")";
      if (WIFSIGNALED(st)) status = " (killed by signal " + std::to_string(WTERMSIG(st)) + ")";
      ::kill(-pid_, SIGKILL);
      pid_ = -1;
    }
  }
  pump(0);
  // Once it is known to have exited, that is the clearest thing to say, whichever way we noticed.
  throw McpError(McpError::Kind::Closed,
                 (status.empty() ? what : "the server '" + command_ + "' exited" + status) + stderr_tail());
}

bool StdioTransport::pump(int timeout_ms) {
  if (from_child_ < 0) return false;
  pollfd fds[2] = {{from_child_, POLLIN, 0}, {child_err_, POLLIN, 0}};
  const nfds_t n = child_err_ >= 0 ? 2 : 1;
  int ready = ::poll(fds, n, timeout_ms);
  if (ready < 0 && errno == EINTR) return true;
  bool open = true;
  char buf[65536];
  if (n == 2 && (fds[1].revents & (POLLIN | POLLHUP))) {
    ssize_t got;
    while ((got = ::read(child_err_, buf, sizeof buf)) > 0) {
      err_tail_.append(buf, static_cast<std::size_t>(got));
      if (err_tail_.size() > kStderrTail) err_tail_.erase(0, err_tail_.size() - kStderrTail);
    }
    if (got == 0) close_fd(child_err_);
  }
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    ssize_t got;
    while ((got = ::read(from_child_, buf, sizeof buf)) > 0)
      out_buffer_.append(buf, static_cast<std::size_t>(got));
    if (got == 0) open = false;
  }
  return open;
}

void StdioTransport::send(const Json& message, Deadline deadline) {
  if (to_child_ < 0) fail_closed("the server '" + command_ + "' is not running");
  const std::string line = message.dump() + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write_no_sigpipe(to_child_, line.data() + done, line.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd out{to_child_, POLLOUT, 0};
      if (::poll(&out, 1, ms_until(deadline)) == 0) {
        throw McpError(McpError::Kind::Timeout, "the server '" + command_ + "' does not read its input");
      }
      pump(0);  // keep its stderr from filling up while we wait
      continue;
    }
    close_fd(to_child_);
    fail_closed("the server '" + command_ + "' closed its input");
  }
}

Json StdioTransport::receive(Deadline deadline) {
  bool exited = false;
  for (;;) {
    for (auto nl = out_buffer_.find('\n'); nl != std::string::npos; nl = out_buffer_.find('\n')) {
      std::string line = out_buffer_.substr(0, nl);
      out_buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      Json message = Json::parse(line, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        if (line.size() > 200) line = line.substr(0, 200) + "...";
        throw McpError(
            McpError::Kind::Protocol,
            "the server '" + command_ + "' wrote something that is not a JSON-RPC message: '" + line + "'");
      }
      return message;
    }
    if (exited) fail_closed("the server '" + command_ + "' exited");
    if (out_buffer_.size() > kMaxLine) {
      throw McpError(McpError::Kind::Protocol,
                     "the server '" + command_ + "' wrote a line longer than 64 MiB");
    }
    if (Clock::now() >= deadline) {
      throw McpError(McpError::Kind::Timeout, "no answer from the server '" + command_ + "' in time");
    }
    exited = !pump(std::min(ms_until(deadline), 1000));
  }
}

}  // namespace agentrt::tools
