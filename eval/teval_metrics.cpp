// T-Eval's per-sample metrics for instruct, reason, retrieve, understand and review, and the summaries; plan
// lives in teval_metrics_plan.cpp.
#include <algorithm>
#include <array>
#include <map>

#include "eval/teval_metrics.h"
#include "eval/teval_pyliteral.h"
#include "eval/teval_similarity.h"

namespace agentrt::eval::teval {
namespace {

std::string_view strip(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// A field of a parsed reply as T-Eval reads it: str() of the value, "" when absent.
std::string field_text(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? std::string() : py_str(*it);
}

Json object_or_empty(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : Json::object();
}

double args_exact_match(const Json& gt_action, const Json& pred_action, const Json& gt_args,
                        const Json& pred_args) {
  double hits = py_equal(gt_action, pred_action) ? 1 : 0;
  for (auto it = gt_args.begin(); it != gt_args.end(); ++it) {
    const auto p = pred_args.find(it.key());
    // T-Eval reads a missing argument as "" (pred_args.get(key, "")).
    if (py_equal(p == pred_args.end() ? Json("") : *p, it.value())) hits += 1;
  }
  return hits / static_cast<double>(gt_args.size() + 1);
}

SampleScore score_instruct(const Sample& s, std::string_view reply) {
  SampleScore out;
  const Json& t = s.reply_template;
  Json thought;
  Json action;
  Json args = Json::object();
  if (s.format == Format::Json) {
    const auto parsed = format_load(reply);
    const auto has = [&](const char* key) { return parsed->contains(t[key].get<std::string>()); };
    if (parsed && parsed->is_object() && has("thought") && has("action") && has("args")) {
      out.parsed = true;
      thought = (*parsed)[t["thought"].get<std::string>()];
      action = (*parsed)[t["action"].get<std::string>()];
      const Json& a = (*parsed)[t["args"].get<std::string>()];
      if (a.is_object()) args = a;
    }
  } else {
    const auto str = [&](const char* key) { return t[key].get<std::string>(); };
    const auto fields =
        split_by_template(reply, {str("thought_start"), str("thought_end") + str("action_start"),
                                  str("action_end") + str("args_start"), str("args_end")});
    if (fields) {
      out.parsed = true;
      thought = (*fields)[0];
      action = std::string(strip((*fields)[1]));
      // Arguments that are not a dict literal still count as well-formed, with no arguments (as in T-Eval).
      if (auto a = parse_python_literal(strip((*fields)[2])); a && a->is_object()) args = std::move(*a);
    }
  }
  const std::string prefix = s.format == Format::Json ? "json" : "string";
  double em = 0;
  if (out.parsed) {
    out.extracted = Json{{"thought", thought}, {"action", action}, {"args", args}};
    em = args_exact_match(s.ground_truth["action"], action, s.ground_truth["args"], args);
  }
  out.metrics[prefix + "_format_metric"] = out.parsed ? 1.0 : 0.0;
  out.metrics[prefix + "_args_em_metric"] = em;
  out.metrics["parse_rate"] = out.parsed ? 1.0 : 0.0;
  return out;
}

SampleScore score_review(const Sample& s, std::string_view reply) {
  SampleScore out;
  const size_t colon = reply.find(':');
  const std::string_view after = strip(colon == std::string_view::npos ? reply : reply.substr(colon + 1));
  double quality = 0;
  if (!after.empty() && after[0] >= 'A' && after[0] <= 'E') {
    out.parsed = true;
    out.extracted = std::string(1, after[0]);
    quality = out.extracted == s.ground_truth["answer"] ? 1.0 : 0.0;
  }
  out.metrics["review_quality"] = quality;
  out.metrics["parse_rate"] = out.parsed ? 1.0 : 0.0;
  return out;
}

// Retrieve in str form: the reference name must occur, and every API-like name the text holds must be it.
bool names_only(std::string_view reply, const std::string& gt_name) {
  if (reply.find(gt_name) == std::string_view::npos) return false;
  for (const auto& name : dotted_names(reply)) {
    if (name != gt_name) return false;
  }
  constexpr std::string_view kFinish = "FinishAction";
  for (size_t at = reply.find(kFinish); at != std::string_view::npos;
       at = reply.find(kFinish, at + kFinish.size())) {
    if (gt_name != kFinish) return false;
  }
  return true;
}

SampleScore score_reason_retrieve_understand(const Sample& s, Task task, std::string_view reply) {
  SampleScore out;
  const Json& gt = s.ground_truth;
  if (s.format == Format::Str) {
    // The whole reply is the thought, the tool name or the arguments.
    out.parsed = true;
    out.extracted = std::string(reply);
    if (task == Task::Reason) out.metrics["thought"] = lexical_similarity(reply, field_text(gt, "thought"));
    if (task == Task::Retrieve) out.metrics["name"] = names_only(reply, field_text(gt, "name")) ? 1.0 : 0.0;
    if (task == Task::Understand) out.metrics["args"] = lexical_similarity(reply, field_text(gt, "args"));
    out.metrics["parse_rate"] = 1.0;
    return out;
  }
  const auto parsed = format_load(reply, '{', '}');
  out.parsed = parsed && parsed->is_object();
  double thought = 0;
  double name = 0;
  double args = 0;
  if (out.parsed) {
    const Json pred_args = object_or_empty(*parsed, "args");
    out.extracted = Json{{"thought", field_text(*parsed, "thought")},
                         {"name", field_text(*parsed, "name")},
                         {"args", pred_args}};
    thought = lexical_similarity(field_text(*parsed, "thought"), field_text(gt, "thought"));
    name = field_text(*parsed, "name") == field_text(gt, "name") ? 1.0 : 0.0;
    args = lexical_similarity(py_str(pred_args), py_str(object_or_empty(gt, "args")));
  }
  out.metrics["thought"] = thought;
  out.metrics["name"] = name;
  out.metrics["args"] = args;
  out.metrics["parse_rate"] = out.parsed ? 1.0 : 0.0;
  return out;
}

SampleScore score_plan(const Sample& s, std::string_view reply) {
  SampleScore out;
  std::vector<PlanStep> predicted;
  if (s.format == Format::Json) {
    if (const auto parsed = format_load(reply, '[', ']')) predicted = plan_steps_from_list(*parsed);
  } else {
    std::vector<std::string> apis;
    for (const auto& name : s.meta["API_list"]) apis.push_back(name.get<std::string>());
    predicted = plan_steps_from_text(reply, apis);
  }
  const std::vector<PlanStep> reference = plan_steps_from_list(s.ground_truth);
  out.parsed = !predicted.empty() && !reference.empty();
  Json steps = Json::array();
  for (const auto& p : predicted) steps.push_back(Json{{"id", p.id}, {"name", p.name}, {"args", p.args}});
  out.extracted = steps;
  PlanMatch m;
  if (out.parsed) m = match_plans(predicted, reference);
  out.metrics["precision"] = m.precision;
  out.metrics["recall"] = m.recall;
  out.metrics["f1_score"] = m.f1_score;
  out.metrics["parse_rate"] = out.parsed ? 1.0 : 0.0;
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> split_by_template(std::string_view text,
                                                          const std::vector<std::string>& literals) {
  if (literals.empty()) return std::nullopt;
  const size_t n = literals.size() - 1;  // fields
  // latest[k]: where literal k starts in the match. Greedy fields put every literal after the first as late
  // as the literals after it allow, so they are placed from the last one backwards.
  std::vector<size_t> latest(literals.size(), 0);
  size_t limit = text.size();
  for (size_t k = literals.size(); k-- > 1;) {
    const size_t len = literals[k].size();
    if (limit < len) return std::nullopt;
    const size_t at = text.rfind(literals[k], limit - len);
    if (at == std::string_view::npos) return std::nullopt;
    latest[k] = at;
    limit = at;
  }
  // The match starts at the first occurrence of the opening literal; a later one could only leave less room.
  const size_t start = text.find(literals[0]);
  if (start == std::string_view::npos) return std::nullopt;
  if (n > 0 && start + literals[0].size() > latest[1]) return std::nullopt;
  std::vector<std::string> fields;
  size_t from = start + literals[0].size();
  for (size_t k = 1; k <= n; ++k) {
    fields.emplace_back(text.substr(from, latest[k] - from));
    from = latest[k] + literals[k].size();
  }
  return fields;
}

std::vector<std::string> dotted_names(std::string_view text) {
  std::vector<std::string> names;
  // Ends of word runs: a run [p, e) followed by '.' and another run is one match; scanning resumes after it.
  const auto run_end = [&](size_t p) {
    size_t e = p;
    while (e < text.size()) {
      size_t q = e;
      if (!is_word_code_point(next_code_point(text, q))) break;
      e = q;
    }
    return e;
  };
  size_t p = 0;
  while (p < text.size()) {
    size_t q = p;
    if (!is_word_code_point(next_code_point(text, q))) {
      p = q;
      continue;
    }
    const size_t e = run_end(p);
    if (e + 1 < text.size() && text[e] == '.') {
      const size_t e2 = run_end(e + 1);
      if (e2 > e + 1) {
        names.emplace_back(text.substr(p, e2 - p));
        p = e2;
        continue;
      }
    }
    p = e;
  }
  return names;
}

SampleScore score_sample(const Sample& sample, const DataKind& kind, std::string_view reply) {
  switch (kind.task) {
    case Task::Instruct:
      return score_instruct(sample, reply);
    case Task::Plan:
      return score_plan(sample, reply);
    case Task::Review:
      return score_review(sample, reply);
    default:
      return score_reason_retrieve_understand(sample, kind.task, reply);
  }
}

Json summarize_metrics(const std::vector<SampleScore>& scores) {
  Json sums = Json::object();
  std::map<std::string, size_t> counts;
  for (const auto& s : scores) {
    for (auto it = s.metrics.begin(); it != s.metrics.end(); ++it) {
      sums[it.key()] = sums.value(it.key(), 0.0) + it.value().get<double>();
      ++counts[it.key()];
    }
  }
  for (auto it = sums.begin(); it != sums.end(); ++it) {
    it.value() = it.value().get<double>() / static_cast<double>(counts[it.key()]);
  }
  return sums;
}

Json dimension_scores(const std::vector<FileMetrics>& files) {
  static constexpr std::array<std::string_view, 6> kDimensions = {"instruct", "plan",       "reason",
                                                                  "retrieve", "understand", "review"};
  std::map<std::string_view, std::vector<double>> parts;
  for (const auto& f : files) {
    const Json& m = f.metrics;
    const auto add = [&](std::string_view dim, const char* key) {
      if (m.contains(key)) parts[dim].push_back(m[key].get<double>());
    };
    switch (f.kind.task) {
      case Task::Instruct:
        for (const std::string prefix : {"json", "string"}) {
          if (m.contains(prefix + "_format_metric")) {
            parts["instruct"].push_back(
                (m[prefix + "_format_metric"].get<double>() + m[prefix + "_args_em_metric"].get<double>()) /
                2);
          }
        }
        break;
      case Task::Plan:
        add("plan", "f1_score");
        break;
      case Task::Review:
        add("review", "review_quality");
        break;
      case Task::Reason:
        add("reason", "thought");
        break;
      case Task::Retrieve:
        add("retrieve", "name");
        break;
      case Task::Understand:
        add("understand", "args");
        break;
      case Task::ReasonRetrieveUnderstand:
        add("reason", "thought");
        add("retrieve", "name");
        add("understand", "args");
        break;
    }
  }
  Json out = Json::object();
  Json missing = Json::array();
  double total = 0;
  size_t covered = 0;
  for (const auto dim : kDimensions) {
    const auto it = parts.find(dim);
    if (it == parts.end() || it->second.empty()) {
      out[std::string(dim)] = nullptr;
      missing.push_back(dim);
      continue;
    }
    double sum = 0;
    for (double v : it->second) sum += v;
    const double mean = sum / static_cast<double>(it->second.size());
    out[std::string(dim)] = mean;
    total += mean;
    ++covered;
  }
  out["overall"] = covered == 0 ? Json(nullptr) : Json(total / static_cast<double>(covered));
  out["complete"] = missing.empty();
  out["missing"] = missing;
  return out;
}

}  // namespace agentrt::eval::teval
