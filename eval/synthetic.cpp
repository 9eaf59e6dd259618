#include "eval/synthetic.h"

#include <cctype>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "agent/schema_validator.h"
#include "agent/session.h"

namespace agentrt::eval {
namespace {

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

double ratio(long long part, long long whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

void add_to(Json& counter, const char* key, long long n) {
  counter[key] = counter[key].get<long long>() + n;
}

}  // namespace

std::vector<SyntheticTask> parse_synthetic_tasks(std::string_view text, const std::string& source) {
  std::istringstream in{std::string(text)};
  std::vector<SyntheticTask> tasks;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "'" + source + "' line " + std::to_string(line_no);
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error(where + ": not a JSON object");
    for (const char* key : {"id", "task", "answer"}) {
      if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
        throw std::runtime_error(where + ": '" + key + "' must be a non-empty string");
      }
    }
    const Json family = j.value("family", Json("other"));
    if (!family.is_string()) throw std::runtime_error(where + ": 'family' must be a string");
    tasks.push_back({j["id"], family.get<std::string>(), j["task"], j["answer"]});
  }
  if (tasks.empty()) throw std::runtime_error("'" + source + "' holds no tasks");
  return tasks;
}

bool contains_value(const std::string& text, const std::string& answer) {
  const auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  for (size_t pos = text.find(answer); pos != std::string::npos; pos = text.find(answer, pos + 1)) {
    const size_t end = pos + answer.size();
    const bool left_ok =
        pos == 0 || (!is_word(text[pos - 1]) && text[pos - 1] != '.' && text[pos - 1] != '-');
    const bool decimal_follows = end + 1 < text.size() && text[end] == '.' && is_digit(text[end + 1]);
    const bool right_ok = end == text.size() || (!is_word(text[end]) && !decimal_follows);
    if (left_ok && right_ok) return true;
  }
  return false;
}

std::string call_problem(const agent::Action& action, const agent::ToolRegistry& registry) {
  if (!action.valid) return action.error.empty() ? "unparsable call" : action.error;
  const auto tool = registry.find(action.name);
  if (!tool) return "unknown tool '" + action.name + "'";
  if (action.channel == agent::Channel::Interpreter) return action.code.empty() ? "empty code cell" : "";
  const auto violations = agent::validate_against_schema(tool->parameters(), action.arguments);
  if (violations.empty()) return "";
  return "arguments do not match the schema (" + std::to_string(violations.size()) + " problem(s))";
}

Json run_synthetic(const std::vector<SyntheticTask>& tasks, agent::LLMBackend& backend,
                   const agent::ToolRegistry& registry, const SyntheticOptions& options,
                   const SyntheticObserver& observer) {
  RecordingBackend recording(backend);
  long long calls = 0, valid_calls = 0, successes = 0, done = 0;
  Json per_family = Json::object();
  Json results = Json::array();
  const size_t total = options.limit == 0 ? tasks.size() : std::min(options.limit, tasks.size());
  for (size_t i = 0; i < total; ++i) {
    const auto& t = tasks[i];
    agent::SessionOptions opts;
    opts.max_turns = options.max_turns;
    opts.generation.max_tokens = options.max_tokens;
    opts.workspace = options.workspace;
    agent::Session session(recording, registry, opts);
    Json task_calls = Json::array();
    long long task_valid = 0;
    agent::RunObserver obs;
    obs.on_action = [&](const agent::Action& a) {
      const std::string problem = call_problem(a, registry);
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
    const bool success = run.error.empty() && !run.forced_answer && contains_value(run.answer, t.answer);
    const auto task_call_count = static_cast<long long>(task_calls.size());
    calls += task_call_count;
    valid_calls += task_valid;
    successes += success;
    ++done;
    Json& fam = per_family[t.family];
    if (fam.is_null()) fam = Json{{"tasks", 0}, {"success", 0}, {"calls", 0}, {"valid_calls", 0}};
    add_to(fam, "tasks", 1);
    add_to(fam, "success", success);
    add_to(fam, "calls", task_call_count);
    add_to(fam, "valid_calls", task_valid);
    Json r{{"id", t.id},           {"family", t.family}, {"task", t.task},     {"expected", t.answer},
           {"answer", run.answer}, {"success", success}, {"turns", run.turns}, {"calls", task_calls}};
    if (!run.error.empty()) r["error"] = run.error;
    if (run.forced_answer) r["forced_answer"] = true;
    const auto prompts = recording.take_prompts();
    if (observer) observer(i, total, t, r, prompts);
    results.push_back(std::move(r));
  }
  for (auto& [name, fam] : per_family.items()) {
    fam["success_rate"] = ratio(fam["success"].get<long long>(), fam["tasks"].get<long long>());
    fam["call_validity"] = ratio(fam["valid_calls"].get<long long>(), fam["calls"].get<long long>());
  }
  const Json summary{{"backend", backend.name()},
                     {"tasks", done},
                     {"task_success", ratio(successes, done)},
                     {"tool_calls", calls},
                     {"tool_call_validity", ratio(valid_calls, calls)},
                     {"families", per_family}};
  return Json{{"summary", summary}, {"results", results}};
}

}  // namespace agentrt::eval
