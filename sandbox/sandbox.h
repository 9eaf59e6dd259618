// sandbox: the code interpreters behind the <|interpreter|> channel and the jail they run in. It owns the
// embedded Lua 5.4 (allow-listed globals, memory cap, instruction and wall-clock hook, output/string/file
// caps) with its data and chart libraries (fs, csv, df, stats, json, chart) and its worker process
// `agentrt-sandbox`; the Python worker (Debian's /usr/bin/python3 with IPython, numpy, pandas, matplotlib:
// sandbox/python/, a warm zygote that clones each session); the one jail both enter (worker_jail.h:
// namespaces, a minimal read-only root, Landlock, a seccomp allowlist, rlimits); and the host side
// that starts, talks to, times out and replaces the workers and caps what they add to the workspace
// (workspace_watch.h). It may include the standard library, Lua,
// libseccomp, librsvg/cairo and nlohmann/json; it never includes agent/, tools/ or apps/ (the interpreter
// tool in tools/ adapts it to the agent's Tool interface).
//
// This header is the host's entry point: one Session per notebook, each with its own jailed worker process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/cell_result.h"
#include "sandbox/jail_support.h"
#include "sandbox/limits.h"
#include "sandbox/workspace_watch.h"

namespace agentrt::sandbox {

enum class Language { Lua, Python };
const char* to_string(Language language);
// "lua" or "python" (any case); throws std::invalid_argument naming the choices.
Language language_from_string(std::string_view text);

struct SessionOptions {
  // The session's folder; the worker runs with it as its working folder and the code's files stay inside it.
  std::filesystem::path workspace;
  // The agentrt-sandbox executable; empty: find_worker_executable(). The Python worker's files live next to
  // it (agentrt-python/).
  std::filesystem::path worker;
  Limits limits;
  Language language = Language::Lua;
  // The jail: namespaces are built where the kernel allows (required for Python), else Lua falls back to
  // the basic jail (rlimits, seccomp, Landlock where present) and Python is refused, unless
  // `allow_basic_jail` (the operator's --interpreter-unsafe) accepts the basic jail for Python too.
  // `use_namespaces` false asks for the basic jail only.
  bool allow_basic_jail = false;
  bool use_namespaces = true;
};

// The worker executable: `explicit_path` when given, else $AGENTRT_SANDBOX_WORKER, else `agentrt-sandbox`
// next to the running executable (or in ../bin, ../../bin from it). Throws std::runtime_error naming where it
// looked.
std::filesystem::path find_worker_executable(const std::filesystem::path& explicit_path = {});

// Gets a language's worker ready before its first session: starts the Python zygote (seconds: it imports
// numpy, pandas, matplotlib, sympy, IPython); nothing to do for Lua. Throws std::runtime_error saying why
// not.
void prepare_worker(Language language, const std::filesystem::path& worker = {});

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

  // Forgets every variable (a fresh interpreter state in the same worker, or a fresh worker).
  void reset();

  // The jailed process's id on the host, or -1 when none is running.
  pid_t worker_pid() const;
  // How many workers this session has started so far.
  int workers_started() const;
  // The jail the current (or last) worker got.
  Isolation isolation() const;
  const SessionOptions& options() const { return options_; }

 private:
  void spawn_locked();
  void stop_worker_locked();
  int end_worker_locked();
  CellResult worker_lost_locked(const std::string& why);

  SessionOptions options_;
  mutable std::mutex mutex_;
  pid_t pid_ = -1;  // the jailed process: a child of this process
  int socket_ = -1;
  int started_ = 0;
  Isolation isolation_ = Isolation::Basic;
  std::shared_ptr<WorkspaceWatch::Entry> watch_;
};

}  // namespace agentrt::sandbox
