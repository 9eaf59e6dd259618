// The registry of tools a session may call: names them to the model, validates each call's arguments against
// the tool's JSON schema before it runs, runs it under its deadline, and turns every failure into a clear
// environment message (../shared/spec/internlm2-protocol.md §6 wording) and a trace event.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/schema.h"

namespace agentrt::agent {

// Messages the model reads when a call fails before the tool runs (Lagent's wording,
// ../shared/spec/internlm2-protocol.md §6).
namespace call_error {
inline constexpr const char* kInvalidJson = "invalid json format";
inline constexpr const char* kUnknownTool = "The action is invalid, please check the action name.";
inline constexpr const char* kMissingArgs = "missing required arguments";
inline constexpr const char* kUnknownArgs = "unknown arguments";
}  // namespace call_error

class ToolRegistry {
 public:
  // Adds a tool; throws std::invalid_argument when its name is taken or its schema is not an object schema.
  void add(std::shared_ptr<Tool> tool);
  // The tool of that name, or null.
  std::shared_ptr<Tool> find(std::string_view name) const;
  std::vector<std::shared_ptr<Tool>> tools() const;
  bool has_interpreter() const;
  // The tool of the interpreter channel (at most one is registered), or null.
  std::shared_ptr<Tool> interpreter() const;
  bool has_plugins() const;
  // OpenAI-style descriptions of the plugin tools, for the system turn:
  // [{"name","description","parameters"}].
  Json plugin_descriptions() const;

  // Per-tool deadline override (otherwise the tool's default_timeout()).
  void set_timeout(std::string_view name, std::chrono::milliseconds timeout);
  std::chrono::milliseconds timeout_of(const Tool& tool) const;

  // Validates and runs one parsed action. Never throws: parse errors, unknown tools, invalid arguments,
  // exceptions and deadline overruns all come back as a failed ToolResult whose text the model can act on.
  ToolResult dispatch(const Action& action, const ToolContext& ctx) const;

 private:
  std::vector<std::shared_ptr<Tool>> tools_;
  std::map<std::string, std::chrono::milliseconds, std::less<>> timeouts_;
};

// What became of one call of a batch.
struct CallOutcome {
  bool ran = false;  // false: the run was cancelled before the call started
  ToolResult result;
  std::chrono::steady_clock::time_point start, end;
};

// The calls of one model turn, run concurrently: at most `max_parallel` at once (1: one after another), calls
// of a tool that may not overlap (Tool::may_overlap) one at a time in their order. Outcomes are taken in the
// calls' order, each as soon as it (and those before it) are done; a call not started when the context's
// cancel flag is set is not started at all.
class CallBatch {
 public:
  CallBatch(const ToolRegistry& registry, std::vector<Action> actions, ToolContext ctx, int max_parallel);
  // Waits for the calls already running (none starts any more once the batch is being destroyed).
  ~CallBatch();
  CallBatch(const CallBatch&) = delete;
  CallBatch& operator=(const CallBatch&) = delete;

  size_t size() const { return actions_.size(); }
  // Waits for call i to end (or to be skipped) and returns what became of it.
  const CallOutcome& wait(size_t i);

 private:
  void work();      // a worker thread's loop
  void work_one();  // the next call, on the caller's thread (max_parallel 1: no workers)
  bool overlaps(size_t i) const;

  const ToolRegistry& registry_;
  std::vector<Action> actions_;
  ToolContext ctx_;
  std::vector<bool> may_overlap_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<CallOutcome> outcomes_;  // guarded by mutex_
  std::vector<bool> done_;             // guarded by mutex_
  size_t next_ = 0;                    // guarded by mutex_
  bool closing_ = false;               // guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace agentrt::agent
