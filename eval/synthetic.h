// The synthetic held-out tasks of `agentrt eval synthetic` (scripts/demo_model/ writes them: the templates
// were in training, the values never were). Each task runs the real agent (session, registry, tools, parser)
// and is scored on two things: tool-call validity (each call parses, names an offered tool, and its arguments
// satisfy that tool's schema) and task success (the run ends with an answer holding the expected value).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/llm_backend.h"
#include "agent/schema.h"
#include "agent/tool_registry.h"

namespace agentrt::eval {

struct SyntheticTask {
  std::string id;
  std::string family;
  std::string task;
  std::string answer;  // the value the final answer must contain
};

// Tasks, one JSON object a line ({"id", "family", "task", "answer"}; blank lines skipped). Errors name
// `source` and the line; an empty set is an error too.
std::vector<SyntheticTask> parse_synthetic_tasks(std::string_view text, const std::string& source);

// True when `answer` occurs in `text` as a whole value: not glued to more digits, letters or a decimal part.
bool contains_value(const std::string& text, const std::string& answer);

// Why a call is not a valid call of an offered tool, or "" when it is.
std::string call_problem(const agent::Action& action, const agent::ToolRegistry& registry);

struct SyntheticOptions {
  int max_turns = 6;
  int max_tokens = 256;
  std::filesystem::path workspace = std::filesystem::current_path();
  size_t limit = 0;  // the first N tasks; 0 = all
};

// After each task: its position, the task, its result (the "results" entry) and every prompt the model read.
using SyntheticObserver = std::function<void(size_t index, size_t total, const SyntheticTask& task,
                                             const Json& result, const std::vector<std::string>& prompts)>;

// Runs every task in a fresh session on `backend` with `registry`'s tools. Returns {"summary": {backend,
// tasks, task_success, tool_calls, tool_call_validity, families: {name: {...}}}, "results": [...]}.
Json run_synthetic(const std::vector<SyntheticTask>& tasks, agent::LLMBackend& backend,
                   const agent::ToolRegistry& registry, const SyntheticOptions& options,
                   const SyntheticObserver& observer = {});

}  // namespace agentrt::eval
