// The code interpreter as the agent's <|interpreter|> tool: {"code": "...", "language": "lua"} in, the cell's
// output, last value, error (with line and traceback) and created files out, as text the model can act on.
// Each agent session (ToolContext::session_id) gets its own stateful sandbox::Session in its workspace. The
// language is the tool's, chosen per run: Lua (the default, the demo model's) or Python (InternLM's own
// interpreter prompt, ```python fences, figures shown to the model as ![image](name.png)).
#pragma once

#include <chrono>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "agent/schema.h"
#include "sandbox/sandbox.h"

namespace agentrt::tools {

struct InterpreterOptions {
  sandbox::Limits limits;
  std::filesystem::path worker;     // empty: next to the running program
  std::filesystem::path workspace;  // used when a call's context names none
  std::size_t max_result_chars = 6000;
  std::size_t max_sessions = 16;  // the least recently used session's worker is stopped beyond this
  sandbox::Language language = sandbox::Language::Lua;
  // Python without the full jail (no user namespaces or no Landlock here): refused unless the operator
  // accepts the basic jail (--interpreter-unsafe).
  bool unsafe = false;

  // From ToolsConfig settings["interpreter"]: {"language": "lua"|"python", "unsafe", "timeout_ms",
  // "memory_mb", "worker", "max_result_chars", "max_sessions"}; throws std::invalid_argument naming a bad
  // field.
  static InterpreterOptions from_settings(const Json& settings, const std::filesystem::path& workspace);
};

class InterpreterTool : public agent::Tool {
 public:
  explicit InterpreterTool(InterpreterOptions options);

  std::string name() const override { return std::string(agent::kInterpreterToolName); }
  std::string description() const override;
  Json parameters() const override;
  agent::Channel channel() const override { return agent::Channel::Interpreter; }
  // Lua: our prompt (prompts/system/interpreter.<language>.txt), ```lua fences. Python: InternLM's own
  // (prompts/system/interpreter_python.<language>.txt, byte for byte), ```python fences.
  std::optional<agent::ChannelPrompt> channel_prompt(std::string_view language) const override;
  // The cell's own limit plus the time to start a worker.
  std::chrono::milliseconds default_timeout() const override;
  bool may_overlap() const override { return false; }  // cells of one session share its variables, in order
  agent::ToolResult run(const Json& arguments, const agent::ToolContext& ctx) override;

  // Forgets the variables of one session (all sessions with that id, whatever their workspace).
  void reset(std::string_view session_id);
  const InterpreterOptions& options() const { return options_; }

 private:
  std::shared_ptr<sandbox::Session> session_for(const agent::ToolContext& ctx);

  InterpreterOptions options_;
  std::mutex mutex_;
  // Most recently used first: (session id + workspace, session).
  std::list<std::pair<std::string, std::shared_ptr<sandbox::Session>>> sessions_;
};

// Whether the code is clearly Python rather than Lua (imports, def/class, block lines ending in ':').
bool looks_like_python(std::string_view code);

// The text the model reads for one cell, at most `max_chars` long (the middle of long output is cut with a
// marker saying how much). Python shows the traceback as the notebook does and each figure as
// ![image](name.png) with its summary; Lua lists "Files created".
std::string format_cell_for_model(const sandbox::CellResult& result, std::size_t max_chars,
                                  sandbox::Language language = sandbox::Language::Lua);

// What an interpreter with these options would run in, for people (the server's start and /health):
// {"language", "jail": {...}, "available", "detail"}. Probes the jail once (sandbox::probe_jail_support).
Json interpreter_status(const InterpreterOptions& options);

// Starts the Python zygote in the background (no-op for Lua or when it runs already), so the first Python
// cell of a program does not wait for numpy, pandas and matplotlib to load.
void warm_up_interpreter(const InterpreterOptions& options);

}  // namespace agentrt::tools
