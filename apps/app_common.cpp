#include "apps/app_common.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "agent/backends/backend_local.h"
#include "agent/backends/backend_remote.h"
#include "agent/backends/backend_scripted.h"
#include "engine/tokenizer.h"
#include "tools/interpreter_tool.h"
#include "tools/mcp_tool.h"

namespace agentrt::apps {

void add_backend_flags(CLI::App* cmd, BackendFlags& flags, bool api_key_alias) {
  cmd->add_option("--model", flags.model,
                  "Checkpoint folder (HF InternLM2 format) to run in process on the CPU engine "
                  "(default, without --endpoint or --script: the bundled demo model, models/demo)");
  cmd->add_option("--backend", flags.backend,
                  "Engine backend that runs the model: cpu (default) or cuda (builds with the CUDA backend)");
  cmd->add_option("--threads", flags.threads, "CPU threads of the local engine (default: all)");
  cmd->add_option(
      "--weights", flags.weights,
      "Weights of the local engine: auto (as the checkpoint stores them), int8 or int4 (quantized "
      "at load; CPU and CUDA backends)");
  cmd->add_option("--kv-cache", flags.kv_cache,
                  "KV cache of the local engine: auto (fp32) or int8 (CPU backend)");
  cmd->add_option("--prefill-activations", flags.prefill_activations,
                  "Prefill activations of the local engine: auto = bf16 (rounded for bf16 and int8/int4 "
                  "weights: twice the multiply rate with AVX512_BF16) or fp32 (CPU backend)");
  cmd->add_option("--script", flags.script, "Replay model replies from FILE (a JSON list of strings)");
  cmd->add_option(
      "--endpoint", flags.endpoint,
      "URL of an OpenAI-compatible server (lmdeploy, vLLM, llama-server), e.g. http://127.0.0.1:23333");
  cmd->add_option("--endpoint-model,--model-name", flags.model_name,
                  "Model name on that server (default: the first it lists)");
  cmd->add_option(api_key_alias ? "--endpoint-api-key,--api-key" : "--endpoint-api-key", flags.api_key,
                  "API key for that server (default: $AGENTRT_API_KEY or $OPENAI_API_KEY)");
  cmd->add_option("--timeout", flags.timeout_s, "Seconds to wait for the server's next bytes")
      ->capture_default_str();
  cmd->add_option(
      "--tokenizer", flags.tokenizer,
      "The served model's tokenizer (a tokenizer.model file, or the model's folder) for --endpoint: "
      "prompts then go to the server as token ids, exactly the tokens the protocol means");
}

std::filesystem::path demo_model_dir() {
  namespace fs = std::filesystem;
  const auto has_model = [](const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / "config.json", ec) && fs::exists(dir / "model.safetensors", ec);
  };
  if (const char* env = std::getenv("AGENTRT_DEMO_MODEL"); env != nullptr && *env != '\0') return env;
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / ".." / "models" / "demo");
    candidates.push_back(exe.parent_path() / ".." / ".." / "models" / "demo");
  }
  candidates.push_back(fs::current_path(ec) / "models" / "demo");
  for (const auto& dir : candidates) {
    if (has_model(dir)) return fs::weakly_canonical(dir, ec);
  }
  return {};
}

std::unique_ptr<agent::LLMBackend> make_backend(const BackendFlags& flags) {
  const int chosen = !flags.script.empty() + !flags.endpoint.empty() + !flags.model.empty();
  if (chosen > 1)
    throw std::invalid_argument("choose one backend: --model, --endpoint or --script, not several");
  if (flags.threads < 0) throw std::invalid_argument("--threads must be 0 (all) or more");
  if (flags.backend != "cpu" && flags.backend != "cuda")
    throw std::invalid_argument("--backend must be cpu or cuda, not '" + flags.backend + "'");
  if (!flags.tokenizer.empty() && flags.endpoint.empty())
    throw std::invalid_argument("--tokenizer names the tokenizer of the model behind --endpoint");
  if (flags.backend != "cpu" && chosen == 1 && flags.model.empty())
    throw std::invalid_argument(
        "--backend runs a local model (--model or the demo model), not --endpoint or --script");
  if (chosen == 0 || !flags.model.empty()) {
    std::filesystem::path dir = flags.model;
    if (dir.empty()) {
      dir = demo_model_dir();
      if (dir.empty()) {
        throw std::invalid_argument(
            "no model backend given and the bundled demo model (models/demo) was not found: pass "
            "--model DIR, --endpoint URL (an OpenAI-compatible server) or --script FILE (replayed replies), "
            "or set AGENTRT_DEMO_MODEL");
      }
    }
    agent::LocalEngineOptions o;
    o.threads = flags.threads;
    o.backend = flags.backend;
    o.weights = flags.weights;
    o.kv_cache = flags.kv_cache;
    o.prefill_activations = flags.prefill_activations;
    o.progress = false;
    return std::make_unique<agent::LocalEngineBackend>(dir, o);
  }
  if (!flags.endpoint.empty()) {
    agent::RemoteBackendOptions o;
    o.endpoint = flags.endpoint;
    o.model = flags.model_name;
    o.api_key = flags.api_key;
    if (o.api_key.empty()) {
      for (const char* var : {"AGENTRT_API_KEY", "OPENAI_API_KEY"}) {
        if (const char* v = std::getenv(var); v != nullptr && *v != '\0') {
          o.api_key = v;
          break;
        }
      }
    }
    if (flags.timeout_s <= 0) throw std::invalid_argument("--timeout must be positive");
    o.read_timeout = std::chrono::milliseconds(static_cast<long long>(flags.timeout_s * 1000));
    if (!flags.tokenizer.empty()) {
      // A model folder, or a tokenizer.model (with the tokenizer_config.json beside it, when there is one).
      namespace fs = std::filesystem;
      const fs::path path = flags.tokenizer;
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        o.tokenizer = std::make_shared<engine::Tokenizer>(engine::Tokenizer::load(path));
      } else {
        const fs::path config = path.parent_path() / "tokenizer_config.json";
        o.tokenizer = std::make_shared<engine::Tokenizer>(
            engine::Tokenizer::from_files(path, fs::exists(config, ec) ? config : fs::path()));
      }
    }
    return std::make_unique<agent::RemoteBackend>(o);
  }
  return agent::ScriptedBackend::from_file(flags.script);  // the one backend left
}

void add_tool_flags(CLI::App* cmd, ToolFlags& flags, bool with_list, bool with_workspace) {
  if (with_list) {
    cmd->add_option("--tools", flags.tools,
                    "Comma-separated tools to offer (default: the tools a local model was trained with, from "
                    "agentrt.json in its folder, else every built-in tool; 'none' for no tools)");
  }
  cmd->add_option("--tools-config", flags.tools_config,
                  "JSON file of per-tool settings: {\"<tool>\": {...}}");
  if (with_workspace) {
    cmd->add_option("--workspace", flags.workspace,
                    "Folder the tools read and write files in (default: current folder)");
  }
  if (with_list) {
    cmd->add_option(
        "--mcp-config", flags.mcp_config,
        "JSON file of MCP servers ({\"mcpServers\": {...}}) whose tools are offered as <server>.<tool>");
    cmd->add_option(
           "--interpreter", flags.interpreter,
           "Language of the code interpreter: lua (default) or python (InternLM's Jupyter interpreter)")
        ->check(CLI::IsMember({"lua", "python"}));
    cmd->add_flag("--interpreter-unsafe", flags.interpreter_unsafe,
                  "Run Python even where the full jail (user namespaces, Landlock) cannot be built");
  }
}

ToolFlags with_trained_tools(ToolFlags tools, const BackendFlags& flags) {
  if (!flags.script.empty() || !flags.endpoint.empty()) return tools;
  if (!tools.tools.empty() && !tools.interpreter.empty()) return tools;
  const std::filesystem::path dir =
      flags.model.empty() ? demo_model_dir() : std::filesystem::path(flags.model);
  const auto file = dir / "agentrt.json";
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(file, ec)) return tools;
  const Json j = read_json_file(file.string());
  if (!j.is_object()) {
    throw std::invalid_argument("'" + file.string() + "': 'tools' must be a list of tool names");
  }
  if (tools.interpreter.empty() && j.contains("interpreter")) {
    if (!j["interpreter"].is_string() || (j["interpreter"] != "lua" && j["interpreter"] != "python")) {
      throw std::invalid_argument("'" + file.string() + "': 'interpreter' must be \"lua\" or \"python\"");
    }
    tools.interpreter = j["interpreter"].get<std::string>();
  }
  if (!tools.tools.empty()) return tools;
  if (!j.contains("tools") || !j["tools"].is_array()) {
    throw std::invalid_argument("'" + file.string() + "': 'tools' must be a list of tool names");
  }
  for (const auto& name : j["tools"]) {
    if (!name.is_string()) throw std::invalid_argument("'" + file.string() + "': tool names must be strings");
    tools.tools += (tools.tools.empty() ? "" : ",") + name.get<std::string>();
  }
  return tools;
}

namespace {

Json tool_settings(const ToolFlags& flags) {
  if (flags.tools_config.empty()) return Json::object();
  Json settings = read_json_file(flags.tools_config);
  if (!settings.is_object()) {
    throw std::invalid_argument("tools config '" + flags.tools_config +
                                "' must be a JSON object keyed by tool name");
  }
  return settings;
}

}  // namespace

std::filesystem::path make_workspace(const ToolFlags& flags) {
  if (flags.workspace.empty()) return std::filesystem::current_path();
  std::error_code ec;
  std::filesystem::create_directories(flags.workspace, ec);
  if (ec) throw std::runtime_error("cannot create workspace '" + flags.workspace + "': " + ec.message());
  return std::filesystem::absolute(flags.workspace);
}

tools::ToolsConfig make_tools_config(const ToolFlags& flags) {
  tools::ToolsConfig config;
  config.workspace = make_workspace(flags);
  config.settings = tool_settings(flags);
  return config;
}

ToolSet make_tool_set(const ToolFlags& flags) {
  ToolSet set;
  set.builtin = parse_tool_list(flags.tools);
  set.settings = tool_settings(flags);
  if (!flags.interpreter.empty() || flags.interpreter_unsafe) {
    Json& interpreter = set.settings["interpreter"];
    if (!interpreter.is_object()) interpreter = Json::object();
    if (!flags.interpreter.empty()) interpreter["language"] = flags.interpreter;
    if (flags.interpreter_unsafe) interpreter["unsafe"] = true;
  }
  if (!flags.mcp_config.empty()) {
    auto loaded = tools::load_mcp_tools(read_json_file(flags.mcp_config));
    for (const auto& error : loaded.errors) std::fprintf(stderr, "agentrt: warning: %s\n", error.c_str());
    for (auto& tool : loaded.tools) {
      const auto names = set.names();
      if (std::find(names.begin(), names.end(), tool->name()) != names.end()) {
        throw std::invalid_argument("MCP tool '" + tool->name() + "' has the name of another tool");
      }
      set.shared.push_back(std::move(tool));
    }
  }
  return set;
}

Json prepare_interpreter(const ToolSet& set, const std::filesystem::path& workspace) {
  if (std::find(set.builtin.begin(), set.builtin.end(), "interpreter") == set.builtin.end()) return nullptr;
  const auto options =
      tools::InterpreterOptions::from_settings(set.settings.value("interpreter", Json::object()), workspace);
  tools::warm_up_interpreter(options);
  return tools::interpreter_status(options);
}

std::vector<int32_t> parse_token_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    try {
      std::size_t used = 0;
      const long value = std::stol(item, &used);
      if (used != item.size() || value < 0 || value > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(value));
    } catch (const std::exception&) {
      throw std::invalid_argument("--tokens: '" + item + "' is not a token id (expected e.g. 1,2,3)");
    }
    pos = end + 1;
  }
  return ids;
}

std::string read_input(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json read_json_file(const std::string& path) {
  const std::string text = read_input(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw std::runtime_error("'" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace agentrt::apps
