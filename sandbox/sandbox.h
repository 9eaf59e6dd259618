// sandbox: the Lua 5.4 code interpreter behind the <|interpreter|> channel. It owns the embedded Lua
// (allow-listed globals, memory cap, instruction and wall-clock hook, output/string/file caps), the Lua-side
// data and chart libraries (fs, csv, df, stats, json, chart), the worker process `agentrt-sandbox` that runs
// the cells under rlimits and a seccomp filter, and the host side that starts, talks to, times out and
// replaces that worker. It may include the standard library, Lua, libseccomp, librsvg/cairo and
// nlohmann/json; it never includes agent/, tools/ or apps/ (the interpreter tool in tools/ adapts it to the
// agent's Tool interface).
//
// This header is the host's entry point: one Session per notebook, each with its own worker process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/cell_result.h"
#include "sandbox/limits.h"

namespace agentrt::sandbox {

struct SessionOptions {
  // The session's folder; the worker runs with it as its working folder and the code's files stay inside it.
  std::filesystem::path workspace;
  // The agentrt-sandbox executable; empty: find_worker_executable().
  std::filesystem::path worker;
  Limits limits;
};

// The worker executable: `explicit_path` when given, else $AGENTRT_SANDBOX_WORKER, else `agentrt-sandbox`
// next to the running executable (or in ../bin, ../../bin from it). Throws std::runtime_error naming where it
// looked.
std::filesystem::path find_worker_executable(const std::filesystem::path& explicit_path = {});

// The message a cell gets when the host had to kill the worker at the deadline.
inline constexpr const char* kKilledMessage = "execution timed out; the interpreter state was reset";

// A stateful, isolated interpreter session (variables persist between cells) backed by one worker process.
// The worker starts on first use; when it is killed (deadline) or dies, the next cell starts a fresh one.
// Thread-safe: cells of one session run one at a time.
class Session {
 public:
  explicit Session(SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the worker now (otherwise the first cell does); throws std::runtime_error when it cannot start.
  void start();

  // Runs one cell with the session's timeout, or `timeout` when given. Never throws for anything the code
  // does; a worker that cannot be started gives a failed result saying so.
  CellResult run(std::string_view code, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Forgets every variable (a fresh Lua state in the same worker, or a fresh worker).
  void reset();

  // The worker's process id, or -1 when none is running.
  pid_t worker_pid() const;
  // How many workers this session has started so far.
  int workers_started() const;
  const SessionOptions& options() const { return options_; }

 private:
  void spawn_locked();
  void stop_worker_locked();
  CellResult worker_lost_locked(const std::string& why);

  SessionOptions options_;
  mutable std::mutex mutex_;
  pid_t pid_ = -1;
  int socket_ = -1;
  int started_ = 0;
};

}  // namespace agentrt::sandbox
