// `agentrt run TASK`: one agent run on a backend, streaming the model's text and the tool calls as they
// happen.
#include <cstdio>
#include <iostream>

#include "agent/py_json.h"
#include "agent/session.h"
#include "agent/trace.h"
#include "apps/app_common.h"
#include "apps/command.h"

namespace agentrt::apps {
namespace {

struct RunFlags {
  BackendFlags backend;
  ToolFlags tools;
  std::string task;
  std::string trace;
  int max_turns = 8;
  std::string flavor = "internlm2";
  std::string lang = "en";
  bool plan = false;
  bool constrain = false;
  bool quiet = false;
  bool json = false;
  int max_tokens = 1024;
  float temperature = 0.0f;
  float top_p = 1.0f;
  int top_k = 0;
  uint64_t seed = 0;
};

std::string one_line(std::string text, size_t limit) {
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > limit) text = text.substr(0, limit) + "…";
  return text;
}

int run_command(const RunFlags& f) {
  auto backend = make_backend(f.backend);
  const auto workspace = make_workspace(f.tools);
  const ToolSet tool_set = make_tool_set(with_trained_tools(f.tools, f.backend));
  if (const Json interpreter = prepare_interpreter(tool_set, workspace);
      interpreter.is_object() && !interpreter.value("available", true)) {
    std::fprintf(stderr, "agentrt: warning: %s\n", interpreter.value("detail", std::string()).c_str());
  }
  auto registry = make_registry(tool_set, workspace);
  std::unique_ptr<agent::JsonlTraceSink> trace;
  if (!f.trace.empty()) trace = std::make_unique<agent::JsonlTraceSink>(f.trace);

  agent::SessionOptions opts;
  opts.flavor = agent::flavor_from_string(f.flavor);
  opts.max_turns = f.max_turns;
  opts.plan_first = f.plan;
  opts.constrain_tools = f.constrain;
  opts.language = f.lang;
  opts.workspace = workspace;
  opts.generation.max_tokens = f.max_tokens;
  opts.generation.temperature = f.temperature;
  opts.generation.top_p = f.top_p;
  opts.generation.top_k = f.top_k;
  opts.generation.seed = f.seed;
  agent::Session session(*backend, *registry, opts, trace.get());

  agent::RunObserver obs;
  const bool live = !f.quiet && !f.json;
  if (live) {
    obs.on_text = [](std::string_view t) {
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
    };
    obs.on_plan = [](const Json& plan) {
      std::printf("\n[plan] %s\n", plan.is_null() ? "(not a JSON list)" : agent::py_dumps(plan).c_str());
    };
    obs.on_action = [](const agent::Action& a) {
      const std::string what =
          a.channel == agent::Channel::Interpreter ? a.code : agent::py_dumps(a.arguments);
      std::printf("\n  -> %s %s\n", a.name.empty() ? "(invalid call)" : a.name.c_str(),
                  one_line(what, 200).c_str());
      std::fflush(stdout);
    };
    obs.on_result = [](const agent::Action&, const agent::ToolResult& r) {
      std::printf("  <- %s%s\n", r.ok ? "" : "[error] ", one_line(r.text, 300).c_str());
      for (const auto& file : r.files)
        std::printf("     file: %s (%s)\n", file.path.c_str(), file.summary.c_str());
      std::fflush(stdout);
    };
  }
  const auto result = session.run(f.task, obs);
  if (f.json) {
    Json out{{"run_id", result.run_id},
             {"answer", result.answer},
             {"turns", result.turns},
             {"tool_calls", result.tool_calls},
             {"forced_answer", result.forced_answer},
             {"cancelled", result.cancelled},
             {"error", result.error},
             {"plan", result.plan}};
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    if (live) std::printf("\n");
    if (result.error.empty()) std::printf("\nAnswer: %s\n", result.answer.c_str());
    if (result.forced_answer)
      std::fprintf(stderr, "agentrt: note: the %d turns ran out; the answer was forced\n", f.max_turns);
  }
  if (!result.error.empty()) {
    std::fprintf(stderr, "agentrt: error: %s\n", result.error.c_str());
    return 1;
  }
  return 0;
}

const CommandRegistrar reg(10, [](CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Run an agent on a task: the model calls tools until it can answer");
  add_backend_flags(cmd, flags->backend);
  add_tool_flags(cmd, flags->tools, true);
  cmd->add_option("--trace", flags->trace, "Append the run's trace events to FILE (JSON lines)");
  cmd->add_option("--max-turns", flags->max_turns, "Model turns before it must answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--flavor", flags->flavor, "Prompt flavour: internlm2 or lmdeploy")
      ->capture_default_str()
      ->check(CLI::IsMember({"internlm2", "lmdeploy"}));
  cmd->add_option("--lang", flags->lang, "Language of the system prompts: en or zh")
      ->capture_default_str()
      ->check(CLI::IsMember({"en", "zh"}));
  cmd->add_flag("--plan", flags->plan, "Ask for a plan (a JSON list of steps) first, then execute it");
  cmd->add_flag(
      "--constrain-tools", flags->constrain,
      "Make tool calls valid by construction (the sampler follows each tool's JSON schema; local models)");
  cmd->add_flag("--quiet", flags->quiet, "Print only the final answer");
  cmd->add_flag("--json", flags->json, "Print the result as JSON");
  cmd->add_option("--max-tokens", flags->max_tokens, "Tokens per model turn")->capture_default_str();
  cmd->add_option("--temperature", flags->temperature, "Sampling temperature (0 = greedy)")
      ->capture_default_str();
  cmd->add_option("--top-p", flags->top_p, "Nucleus sampling")->capture_default_str();
  cmd->add_option("--top-k", flags->top_k, "Top-k sampling (0 = off)")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Sampling seed")->capture_default_str();
  cmd->add_option("task", flags->task, "The task, in words")->required();
  cmd->callback([flags] {
    const int status = run_command(*flags);
    if (status != 0) throw CommandExit{status};
  });
});

}  // namespace
}  // namespace agentrt::apps
