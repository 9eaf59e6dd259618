// `agentrt eval synthetic --tasks FILE`: the demo model's held-out tasks (eval/synthetic.h scores them) on
// the backend and tools the flags name. Prints the summary (JSON) on stdout and progress on stderr; --out
// gets every task's calls and answer as well.
#include <cstdio>
#include <fstream>
#include <memory>

#include "agent/py_json.h"
#include "apps/app_common.h"
#include "apps/app_eval_registry.h"
#include "eval/synthetic.h"

namespace agentrt::apps {
namespace {

struct SyntheticFlags {
  BackendFlags backend;
  ToolFlags tools;
  std::string tasks;
  std::string out;
  std::string dump_prompts;
  size_t limit = 0;
  int max_turns = 6;
  int max_tokens = 256;
  bool print_tools = false;
  bool quiet = false;
};

void run_synthetic(const SyntheticFlags& f) {
  // Flags first: building the registry creates the workspace folder, which a bad command line must not leave.
  if (!f.print_tools) {
    if (f.tasks.empty())
      throw std::invalid_argument(
          "--tasks FILE is required (or --print-tools); the demo model's held-out tasks are "
          "models/demo/eval_tasks.jsonl, and scripts/demo_model/eval_model.py runs them with the search "
          "index, CSV files and shipping service they need");
    if (f.out.empty()) throw std::invalid_argument("--out FILE is required");
    if (f.max_tokens <= 0) throw std::invalid_argument("--max-tokens must be positive");
  }
  const ToolFlags tools = f.print_tools ? f.tools : with_trained_tools(f.tools, f.backend);
  const auto workspace = make_workspace(tools);
  auto registry = make_registry(make_tool_set(tools), workspace);
  if (f.print_tools) {
    std::printf("%s\n", agent::py_dumps(registry->plugin_descriptions(), 4).c_str());
    return;
  }
  const auto tasks = eval::parse_synthetic_tasks(read_input(f.tasks), f.tasks);
  auto backend = make_backend(f.backend);

  std::ofstream prompts_out;
  if (!f.dump_prompts.empty()) {
    prompts_out.open(f.dump_prompts, std::ios::binary | std::ios::trunc);
    if (!prompts_out) throw std::runtime_error("cannot write '" + f.dump_prompts + "'");
  }
  eval::SyntheticOptions options;
  options.max_turns = f.max_turns;
  options.max_tokens = f.max_tokens;
  options.workspace = workspace;
  options.limit = f.limit;
  const Json report = eval::run_synthetic(
      tasks, *backend, *registry, options,
      [&](size_t i, size_t total, const eval::SyntheticTask& t, const Json& result,
          const std::vector<std::string>& prompts) {
        for (const auto& p : prompts) {
          if (prompts_out.is_open()) prompts_out << Json{{"id", t.id}, {"prompt", p}}.dump() << "\n";
        }
        if (f.quiet) return;
        long long valid = 0;
        for (const auto& c : result["calls"]) valid += c["valid"].get<bool>();
        std::fprintf(stderr, "[%zu/%zu] %s %s (%zu call(s), %lld valid)\n", i + 1, total, t.id.c_str(),
                     result["success"].get<bool>() ? "ok" : "FAILED", result["calls"].size(), valid);
      });
  const Json& summary = report["summary"];
  std::ofstream out(f.out, std::ios::binary | std::ios::trunc);
  out << report.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  if (!out.flush()) throw std::runtime_error("cannot write '" + f.out + "'");
  std::printf("%s\n", summary.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
}

const EvalKindRegistrar reg(20, [](CLI::App& eval) {
  auto f = std::make_shared<SyntheticFlags>();
  auto* cmd = eval.add_subcommand(
      "synthetic", "Run the agent on held-out synthetic tool-use tasks: tool-call validity and task success");
  cmd->add_option("--tasks", f->tasks,
                  "Tasks, one JSON object a line: {\"id\", \"family\", \"task\", \"answer\"}");
  cmd->add_option("--out", f->out, "Write the summary and every task's calls and answer to FILE (JSON)");
  add_backend_flags(cmd, f->backend);
  add_tool_flags(cmd, f->tools, true);
  cmd->add_option("--limit", f->limit, "Run only the first N tasks");
  cmd->add_option("--max-turns", f->max_turns, "Model turns per task before the answer is forced")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--max-tokens", f->max_tokens, "Tokens per model turn")->capture_default_str();
  cmd->add_option("--dump-prompts", f->dump_prompts,
                  "Write every prompt the model was given to FILE (JSON lines)");
  cmd->add_flag("--print-tools", f->print_tools,
                "Print the tool declarations the model is offered, then stop");
  cmd->add_flag("--quiet", f->quiet, "No per-task progress on stderr");
  cmd->callback([f] { run_synthetic(*f); });
});

}  // namespace
}  // namespace agentrt::apps
