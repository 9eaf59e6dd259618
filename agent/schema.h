// agent: the core of the agent runtime. It owns the schema every other part speaks (messages, actions, the
// Tool interface, tool results, trace events; the LLM backend interface in llm_backend.h), the InternLM2
// protocol (protocol.h derives its special tokens from engine/special_tokens.h; renderer, streaming action
// parser), the tool registry with argument validation, the planner loop (session) and traces. It may include
// engine/special_tokens.h, prompts/ and third-party libraries; it never includes tools/, sandbox/, eval/,
// apps/ or the rest of the engine, and never names a concrete tool: tools reach it only through `Tool`, which
// also lets a tool supply its own channel's prompt (Tool::channel_prompt). The backends that run a model are
// a library of their own above it (agent/backends/backends.h).
//
// This header is the one place the shared data types live.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentrt {
// Insertion-ordered JSON: tool descriptions and call arguments keep the order the user or the model wrote,
// which byte-exact prompts need (Python's json.dumps keeps insertion order; nlohmann::json would sort keys).
using Json = nlohmann::ordered_json;
}  // namespace agentrt

namespace agentrt::agent {

enum class Role { System, User, Assistant, Environment };
std::string_view to_string(Role role);
// Accepts system|user|assistant|environment, and OpenAI's "tool" as environment; throws
// std::invalid_argument.
Role role_from_string(std::string_view text);

// The two tool channels of the protocol: <|plugin|> (JSON function calls) and <|interpreter|> (code).
enum class Channel { Plugin, Interpreter };
std::string_view to_string(Channel channel);

// The name under which the interpreter tool is registered and recorded in traces.
inline constexpr std::string_view kInterpreterToolName = "interpreter";

// One tool call the model made (or tried to make).
struct Action {
  Channel channel = Channel::Plugin;
  std::string name;                 // tool name; kInterpreterToolName for the interpreter channel
  Json arguments = Json::object();  // plugin: the call's arguments
  std::string code;                 // interpreter: the code inside the fence
  std::string language;             // interpreter: the label of the code fence ("" when none)
  std::string raw;                  // text between <|action_start|><|channel|> and <|action_end|>
  bool valid = true;                // false: could not be parsed; `error` says why
  std::string error;                // for invalid actions: words the model can act on
  std::string id;                   // call id (OpenAI tool_call_id), assigned by the session
  bool closed = true;               // false when generation ended before <|action_end|>

  // The arguments a tool receives: plugin arguments, or {"code": ..., "language": ...} for the interpreter.
  Json tool_arguments() const;
};

struct Message {
  Role role = Role::User;
  std::string name;             // "", "plugin", "interpreter" or free text (e.g. "file")
  std::string content;          // for assistants: the text before the first call (the thought / answer)
  std::vector<Action> actions;  // assistant turns only
  std::string tool_call_id;     // environment turns answering a call
};

// A file a tool produced for the user (a chart, a download), with a text summary the model can read.
struct ToolFile {
  std::string path;     // relative to the session's workspace
  std::string mime;     // e.g. "image/svg+xml"
  std::string summary;  // what the file shows, in words
};

struct ToolResult {
  bool ok = true;
  std::string text;  // what the model reads in the environment turn
  Json data;         // optional structured result for the user or the server
  std::vector<ToolFile> files;

  static ToolResult success(std::string text, Json data = nullptr);
  static ToolResult failure(std::string text, Json data = nullptr);
};

// Receives trace events (one JSON object each) as they happen.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void emit(const Json& event) = 0;
};

// What a running tool may know about its call.
struct ToolContext {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::filesystem::path workspace;  // the session's folder for files; tools stay inside it
  TraceSink* trace = nullptr;       // may be null
  std::string session_id;
  const std::atomic<bool>* cancelled = nullptr;  // set when the user or the server cancels the run

  bool expired() const { return std::chrono::steady_clock::now() >= deadline; }
  bool cancel_requested() const { return cancelled != nullptr && cancelled->load(); }
  // Milliseconds left before the deadline (0 when past it; a large number when there is none).
  long long remaining_ms() const;
};

// What a tool says about its own channel where calls are code rather than JSON (the interpreter): the system
// turn that declares it to the model, the label of the code fence it expects, and what a call without code is
// told. The agent asks the tool instead of knowing any language itself.
struct ChannelPrompt {
  std::string system_prompt;      // content of the `system name=<|interpreter|>` turn; "" for none
  std::string fence_language;     // label of the code fence written for a call rendered from code ("" = bare)
  std::string missing_code_hint;  // how to send code, appended to the error of a call that holds none
};

// A capability the model can call. Implementations live in tools/; the agent knows them only through this.
class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // JSON schema of the arguments: {"type":"object","properties":{...},"required":[...]}.
  virtual Json parameters() const = 0;
  virtual Channel channel() const { return Channel::Plugin; }
  // For a tool of the interpreter channel: its prompt in a prompt language ("en" | "zh"). Plugin tools are
  // declared by their JSON description instead and keep the default (none).
  virtual std::optional<ChannelPrompt> channel_prompt(std::string_view language) const {
    (void)language;
    return std::nullopt;
  }
  // How long one call may take unless the session configures otherwise.
  virtual std::chrono::milliseconds default_timeout() const { return std::chrono::seconds(30); }
  // Whether calls of this tool may run at the same time as each other (the calls of one turn run
  // concurrently). A tool with state that calls must not share at once (one interpreter session) says false:
  // its calls then run one at a time, in the order the model wrote them, beside other tools' calls.
  virtual bool may_overlap() const { return true; }
  // Runs one call with validated arguments. Errors the model should see are returned as ToolResult::failure;
  // exceptions are caught by the registry and turned into failures too.
  virtual ToolResult run(const Json& arguments, const ToolContext& ctx) = 0;
};

// Conversions used by the renderer, the server and the CLI.
Json to_json(const Action& action);
Json to_json(const Message& message);
Json to_json(const ToolResult& result);

}  // namespace agentrt::agent
