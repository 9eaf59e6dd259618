// The planner loop of one conversation (../shared/spec/architecture.md, "Data flow of one agent run"): keeps
// the history, renders it, streams the model's reply through the action parser, dispatches the reply's calls
// through the registry (concurrently, at most max_parallel_tools at once; results in the calls' order), feeds
// every result back as an environment turn, and repeats until a reply without a call or until the turns run
// out (then one last turn asks the model to answer from what it has). Every step is traced.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/action_parser.h"
#include "agent/llm_backend.h"
#include "agent/renderer.h"
#include "agent/schema.h"
#include "agent/tool_registry.h"
#include "agent/trace.h"

namespace agentrt::agent {

struct SessionOptions {
  Flavor flavor = Flavor::InternLM2;
  int max_turns = 8;
  bool plan_first = false;  // first ask for a T-Eval style plan: a JSON list of {"id","name","args"} steps
  bool constrain_tools = false;  // ask the backend to make plugin calls valid by construction (local engine)
  std::string language = "en";   // "en" | "zh": which of the prompts/ texts the model reads
  // The general system turn. Unset: prompts/system/agent.<language>.txt; empty: none.
  std::optional<std::string> system_prompt;
  GenerationParams generation;
  // Calls of one turn running at once (1: one after another). Tools that may not overlap themselves
  // (Tool::may_overlap) run their calls one at a time whatever this says.
  int max_parallel_tools = 4;
  std::filesystem::path workspace = std::filesystem::current_path();
  std::string session_id;
};

// Live view of a run for a user interface; every member is optional.
struct RunObserver {
  std::function<void(std::string_view text)> on_text;   // model text as it streams
  std::function<void(const Action& action)> on_action;  // a call, before it runs
  std::function<void(const Action& action, const ToolResult& result)> on_result;
  std::function<void(const Json& plan)> on_plan;
};

struct RunResult {
  std::string run_id;
  std::string answer;
  int turns = 0;  // model turns used, the forced last one included
  int tool_calls = 0;
  bool forced_answer = false;  // the turns ran out and the model was asked to answer
  bool cancelled = false;
  std::string error;  // set when the backend failed; the history holds what happened before
  Json plan;          // plan-first mode: the parsed steps (or null)
};

class Session {
 public:
  Session(LLMBackend& backend, const ToolRegistry& tools, SessionOptions options, TraceSink* trace = nullptr);

  // Runs one user task to its answer. Never throws for model, tool or backend failures: they end up in the
  // trace and in RunResult::error.
  RunResult run(const std::string& task, const RunObserver& observer = {});

  // Stops the current run as soon as possible (thread-safe): generation is cut and no further tool runs.
  void cancel() { cancelled_ = true; }

  const std::vector<Message>& history() const { return history_; }
  // Starts from an existing conversation (e.g. one restored from storage).
  void set_history(std::vector<Message> history) { history_ = std::move(history); }
  // The prompt the model would read next.
  std::string render_next_prompt() const;
  const SessionOptions& options() const { return options_; }

 private:
  struct Turn {
    ParsedReply reply;
    Completion completion;
  };
  Turn generate_turn(const RunObserver& observer);
  std::string prompt_text(std::string_view name) const;
  // What the registry's interpreter tool says of its channel in this session's language (none without one).
  std::optional<ChannelPrompt> interpreter_prompt() const;

  LLMBackend& backend_;
  const ToolRegistry& tools_;
  SessionOptions options_;
  TraceSink* trace_;
  std::vector<Message> history_;
  std::atomic<bool> cancelled_{false};
  int call_counter_ = 0;
};

// Extracts a T-Eval plan (a JSON list of steps) from model text: the first JSON list in it, fenced or not.
// Returns null when there is none.
Json extract_plan(std::string_view text);

}  // namespace agentrt::agent
