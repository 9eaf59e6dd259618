// Pieces several subcommands share: choosing and building the LLM backend from flags, building the tool
// registry, reading JSON input files.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent/llm_backend.h"
#include "agent/schema.h"
#include "agent/tool_registry.h"
#include "apps/tool_set.h"
#include "tools/tools.h"

namespace agentrt::apps {

struct BackendFlags {
  std::string model;  // --model DIR: a checkpoint run in process on our engine (default: the demo model)
  std::string backend = "cpu";    // --backend cpu|cuda: the engine backend that runs --model
  int threads = 0;                // --threads N: CPU threads of the local engine (0: all)
  std::string weights = "auto";   // --weights auto|int8|int4: the local engine's linear layers
  std::string kv_cache = "auto";  // --kv-cache auto|fp32|int8: the local engine's KV cache (CPU backend)
  std::string prefill_activations = "auto";  // --prefill-activations auto|fp32|bf16 (CPU backend)
  std::string script;                        // --script FILE: scripted replies (JSON list of strings)
  std::string endpoint;                      // --endpoint URL: OpenAI-compatible server
  std::string model_name;  // --endpoint-model NAME: the served model (asked from the server when empty)
  std::string api_key;     // --endpoint-api-key KEY (default: $AGENTRT_API_KEY, then $OPENAI_API_KEY)
  double timeout_s = 120;  // --timeout SECONDS: longest wait for the server's next bytes
  std::string tokenizer;   // --tokenizer FILE|DIR: the served model's tokenizer (prompts as token ids)
};

// The same spellings for every command; `--model-name` is an alias of --endpoint-model everywhere, and
// `--api-key` of --endpoint-api-key where the command has no --api-key of its own (serve has: its clients'
// key).
void add_backend_flags(CLI::App* cmd, BackendFlags& flags, bool api_key_alias = true);
// Builds the backend the flags name (the bundled demo model when none is named); throws std::invalid_argument
// with a clear message when several are given or the demo model cannot be found.
std::unique_ptr<agent::LLMBackend> make_backend(const BackendFlags& flags);
// The bundled demo model: $AGENTRT_DEMO_MODEL, else models/demo found next to the program
// (bin/../models/demo, bin/../../models/demo: the source tree of a build folder) or in the current folder;
// empty when none has one.
std::filesystem::path demo_model_dir();

struct ToolFlags {
  std::string tools;         // --tools a,b,c (default: with_trained_tools, else every built-in tool)
  std::string tools_config;  // --tools-config FILE: {"<tool>": {settings}}
  std::string workspace;     // --workspace DIR
  std::string mcp_config;    // --mcp-config FILE: {"mcpServers": {...}}, the shape other agent hosts use
  // --interpreter lua|python: the interpreter tool's language (default: the model folder's agentrt.json
  // "interpreter", else --tools-config's, else Lua); --interpreter-unsafe: run Python where the full jail
  // cannot be built (sandbox/worker_jail.h).
  std::string interpreter;
  bool interpreter_unsafe = false;
};

void add_tool_flags(CLI::App* cmd, ToolFlags& flags, bool with_list, bool with_workspace = true);
// The workspace the flags name (created when missing; the current folder by default).
std::filesystem::path make_workspace(const ToolFlags& flags);
// That workspace and the per-tool settings the flags name.
tools::ToolsConfig make_tools_config(const ToolFlags& flags);
// `tools` with its list filled in when --tools was not given: the tools the backend's local model was trained
// to be offered, in order, from agentrt.json in its folder ({"tools": [...]}; the demo model has one, since
// it knows no other tool list), and its interpreter language when --interpreter is not given
// ({"interpreter": "python"}). Unchanged for --endpoint, --script, or a folder without the file.
ToolFlags with_trained_tools(ToolFlags tools, const BackendFlags& backend);
// The tools of agent runs for these flags (make_registry builds registries of it): the --tools list (every
// built-in tool when empty; pass the flags through with_trained_tools first for a model's own list),
// --tools-config's settings, and the tools of the configured MCP servers, started once here (a server that
// cannot be used is reported on stderr and skipped).
ToolSet make_tool_set(const ToolFlags& flags);
// The interpreter of a tool set, for people: its language and the jail it gets here (tools/interpreter_tool.h
// interpreter_status); null when the set has no interpreter. Also starts Python's zygote in the background.
Json prepare_interpreter(const ToolSet& set, const std::filesystem::path& workspace);

// Token ids written as "1,2,3" (--tokens); throws std::invalid_argument naming an item that is not one.
std::vector<int32_t> parse_token_ids(const std::string& text);

// Reads a whole file, or standard input for "-"; throws std::runtime_error naming the file.
std::string read_input(const std::string& path);
// Parses JSON read from `path`; errors name the file and the position.
Json read_json_file(const std::string& path);

}  // namespace agentrt::apps
