// `agentrt eval synthetic --tasks FILE`: runs the agent (the real session, registry, tools and parser) on
// held-out synthetic tasks (scripts/demo_model/ writes them; the templates were in training, the values never
// were) and scores two things: tool-call validity (each call parses, names an offered tool, and its arguments
// satisfy that tool's schema) and task success (the run ends with an answer holding the expected value).
// Prints the summary (JSON) on stdout and progress on stderr; --out gets every task's calls and answer as
// well.
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "agent/py_json.h"
#include "agent/schema_validator.h"
#include "agent/session.h"
#include "apps/app_common.h"
#include "apps/app_eval_registry.h"

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

struct SyntheticTask {
  std::string id;
  std::string family;
  std::string task;
  std::string answer;  // the value the final answer must contain
};

// Wraps a backend and keeps every prompt it is given, so callers can check the exact bytes the model read.
class RecordingBackend : public agent::LLMBackend {
 public:
  explicit RecordingBackend(agent::LLMBackend& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                             const agent::ChunkCallback& on_chunk) override {
    prompts_.push_back(prompt);
    return inner_.generate(prompt, params, on_chunk);
  }
  agent::MarkerIds marker_ids() const override { return inner_.marker_ids(); }
  std::vector<std::string> take_prompts() { return std::exchange(prompts_, {}); }

 private:
  agent::LLMBackend& inner_;
  std::vector<std::string> prompts_;
};

std::vector<SyntheticTask> read_tasks(const std::string& path) {
  std::istringstream in(read_input(path));
  std::vector<SyntheticTask> tasks;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "'" + path + "' line " + std::to_string(line_no);
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error(where + ": not a JSON object");
    for (const char* key : {"id", "task", "answer"}) {
      if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
        throw std::runtime_error(where + ": '" + key + "' must be a non-empty string");
      }
    }
    tasks.push_back({j["id"], j.value("family", "other"), j["task"], j["answer"]});
  }
  if (tasks.empty()) throw std::runtime_error("'" + path + "' holds no tasks");
  return tasks;
}

// True when `answer` occurs in `text` as a whole value: not glued to more digits, letters or a decimal part.
bool contains_value(const std::string& text, const std::string& answer) {
  const auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t pos = text.find(answer); pos != std::string::npos; pos = text.find(answer, pos + 1)) {
    const size_t end = pos + answer.size();
    const bool left_ok =
        pos == 0 || (!is_word(text[pos - 1]) && text[pos - 1] != '.' && text[pos - 1] != '-');
    const bool decimal_follows = end + 1 < text.size() && text[end] == '.' && std::isdigit(text[end + 1]);
    const bool right_ok = end == text.size() || (!is_word(text[end]) && !decimal_follows);
    if (left_ok && right_ok) return true;
  }
  return false;
}

// Why a call is not a valid call of an offered tool, or "" when it is.
std::string call_problem(const agent::Action& action, const agent::ToolRegistry& registry) {
  if (!action.valid) return action.error.empty() ? "unparsable call" : action.error;
  const auto tool = registry.find(action.name);
  if (!tool) return "unknown tool '" + action.name + "'";
  if (action.channel == agent::Channel::Interpreter) return action.code.empty() ? "empty code cell" : "";
  const auto violations = agent::validate_against_schema(tool->parameters(), action.arguments);
  if (violations.empty()) return "";
  return "arguments do not match the schema (" + std::to_string(violations.size()) + " problem(s))";
}

double ratio(long long part, long long whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / whole;
}

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
  auto registry = make_registry(tools);
  if (f.print_tools) {
    std::printf("%s\n", agent::py_dumps(registry->plugin_descriptions(), 4).c_str());
    return;
  }
  const auto tasks = read_tasks(f.tasks);
  auto backend = make_backend(f.backend);
  RecordingBackend recording(*backend);

  std::ofstream prompts_out;
  if (!f.dump_prompts.empty()) {
    prompts_out.open(f.dump_prompts, std::ios::binary | std::ios::trunc);
    if (!prompts_out) throw std::runtime_error("cannot write '" + f.dump_prompts + "'");
  }
  long long calls = 0, valid_calls = 0, successes = 0, done = 0;
  Json per_family = Json::object();
  Json results = Json::array();
  const size_t total = f.limit == 0 ? tasks.size() : std::min(f.limit, tasks.size());
  for (size_t i = 0; i < total; ++i) {
    const auto& t = tasks[i];
    agent::SessionOptions opts;
    opts.max_turns = f.max_turns;
    opts.generation.max_tokens = f.max_tokens;
    opts.workspace = make_tools_config(tools).workspace;
    agent::Session session(recording, *registry, opts);
    Json task_calls = Json::array();
    long long task_valid = 0;
    agent::RunObserver obs;
    obs.on_action = [&](const agent::Action& a) {
      const std::string problem = call_problem(a, *registry);
      task_valid += problem.empty();
      Json c{{"tool", a.name}, {"valid", problem.empty()}};
      if (a.channel == agent::Channel::Interpreter) {
        c["code"] = a.code;
      } else {
        c["arguments"] = a.arguments;
      }
      if (!problem.empty()) c["problem"] = problem;
      task_calls.push_back(std::move(c));
    };
    obs.on_result = [&](const agent::Action&, const agent::ToolResult& r) {
      task_calls.back()["result"] = r.text;
      task_calls.back()["ok"] = r.ok;
    };
    const auto run = session.run(t.task, obs);
    for (const auto& p : recording.take_prompts()) {
      if (prompts_out.is_open()) prompts_out << Json{{"id", t.id}, {"prompt", p}}.dump() << "\n";
    }
    const bool success = run.error.empty() && !run.forced_answer && contains_value(run.answer, t.answer);
    calls += static_cast<long long>(task_calls.size());
    valid_calls += task_valid;
    successes += success;
    ++done;
    Json& fam = per_family[t.family];
    if (fam.is_null()) fam = Json{{"tasks", 0}, {"success", 0}, {"calls", 0}, {"valid_calls", 0}};
    fam["tasks"] = fam["tasks"].get<long long>() + 1;
    fam["success"] = fam["success"].get<long long>() + success;
    fam["calls"] = fam["calls"].get<long long>() + static_cast<long long>(task_calls.size());
    fam["valid_calls"] = fam["valid_calls"].get<long long>() + task_valid;
    Json r{{"id", t.id},           {"family", t.family}, {"task", t.task},     {"expected", t.answer},
           {"answer", run.answer}, {"success", success}, {"turns", run.turns}, {"calls", task_calls}};
    if (!run.error.empty()) r["error"] = run.error;
    if (run.forced_answer) r["forced_answer"] = true;
    results.push_back(std::move(r));
    if (!f.quiet) {
      std::fprintf(stderr, "[%zu/%zu] %s %s (%zu call(s), %lld valid)\n", i + 1, total, t.id.c_str(),
                   success ? "ok" : "FAILED", task_calls.size(), task_valid);
    }
  }
  for (auto& [name, fam] : per_family.items()) {
    fam["success_rate"] = ratio(fam["success"].get<long long>(), fam["tasks"].get<long long>());
    fam["call_validity"] = ratio(fam["valid_calls"].get<long long>(), fam["calls"].get<long long>());
  }
  const Json summary{{"backend", backend->name()},
                     {"tasks", done},
                     {"task_success", ratio(successes, done)},
                     {"tool_calls", calls},
                     {"tool_call_validity", ratio(valid_calls, calls)},
                     {"families", per_family}};
  std::ofstream out(f.out, std::ios::binary | std::ios::trunc);
  out << Json{{"summary", summary}, {"results", results}}.dump(2, ' ', false, Json::error_handler_t::replace)
      << "\n";
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
