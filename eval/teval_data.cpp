#include "eval/teval_data.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "eval/teval_pyliteral.h"

namespace agentrt::eval::teval {
namespace {

struct KindName {
  std::string_view stem;
  Task task;
  Format format;
};

// Longest stems first, so "reason_retrieve_understand_json" is not read as something shorter.
constexpr std::array<KindName, 8> kKindNames = {{
    {"reason_retrieve_understand_json", Task::ReasonRetrieveUnderstand, Format::Json},
    {"understand_str", Task::Understand, Format::Str},
    {"retrieve_str", Task::Retrieve, Format::Str},
    {"reason_str", Task::Reason, Format::Str},
    {"review_str", Task::Review, Format::Str},
    {"plan_json", Task::Plan, Format::Json},
    {"plan_str", Task::Plan, Format::Str},
    {"instruct", Task::Instruct, Format::Json},
}};

constexpr const char* kUnknownKind =
    "cannot tell what this file evaluates from its name; T-Eval's files are instruct, plan_json, plan_str, "
    "reason_str, retrieve_str, understand_str, reason_retrieve_understand_json and review_str (_v1, _v2, "
    "_zh); name the kind explicitly otherwise";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

[[noreturn]] void fail(const std::string& source, const std::string& id, const std::string& what) {
  if (id.empty()) throw DataError(source + ": " + what);
  throw DataError(source + ": sample '" + id + "': " + what);
}

std::optional<Format> format_from_meta(const Json& meta, const char* key) {
  const auto it = meta.find(key);
  if (it == meta.end() || !it->is_string()) return std::nullopt;
  const std::string value = it->get<std::string>();
  if (value == "json") return Format::Json;
  if (value == "str" || value == "string") return Format::Str;
  return std::nullopt;
}

std::string type_name(const Json& v) {
  return v.type_name();
}

void require_string_fields(const Json& object, std::initializer_list<const char*> keys,
                           const std::string& where, const std::string& source, const std::string& id) {
  for (const char* key : keys) {
    const auto it = object.find(key);
    if (it == object.end()) fail(source, id, where + " has no \"" + key + "\"");
    if (!it->is_string())
      fail(source, id, where + ".\"" + key + "\" must be a string, not " + type_name(*it));
  }
}

void check_instruct(Sample& s, const std::string& source) {
  const auto fmt = format_from_meta(s.meta, "response_format");
  if (!fmt) fail(source, s.id, "meta_data.response_format must be \"json\" or \"string\"");
  s.format = *fmt;
  if (!s.reply_template.is_object()) fail(source, s.id, "template must be an object");
  if (s.format == Format::Json) {
    require_string_fields(s.reply_template, {"thought", "action", "args"}, "template", source, s.id);
  } else {
    require_string_fields(
        s.reply_template,
        {"thought_start", "thought_end", "action_start", "action_end", "args_start", "args_end"}, "template",
        source, s.id);
  }
  if (!s.ground_truth.is_object()) fail(source, s.id, "ground_truth must be an object {action, args}");
  if (!s.ground_truth.contains("action")) fail(source, s.id, "ground_truth has no \"action\"");
  if (!s.ground_truth.contains("args") || !s.ground_truth["args"].is_object()) {
    fail(source, s.id, "ground_truth.args must be an object");
  }
}

void check_plan(Sample& s, const DataKind& kind, const std::string& source) {
  if (const auto it = s.meta.find("prompt_type"); it != s.meta.end()) {
    const auto fmt = format_from_meta(s.meta, "prompt_type");
    if (!fmt) fail(source, s.id, "meta.prompt_type must be \"json\" or \"str\"");
    s.format = *fmt;
  } else {
    s.format = kind.format;
  }
  if (!s.ground_truth.is_array() || s.ground_truth.empty()) {
    fail(source, s.id, "ground_truth must be a non-empty list of steps {id, name, args}");
  }
  for (size_t i = 0; i < s.ground_truth.size(); ++i) {
    const Json& step = s.ground_truth[i];
    const std::string where = "ground_truth[" + std::to_string(i) + "]";
    if (!step.is_object()) fail(source, s.id, where + " must be an object");
    for (const char* key : {"id", "name", "args"}) {
      if (!step.contains(key)) fail(source, s.id, where + " has no \"" + key + "\"");
    }
    if (!py_int(step["id"])) fail(source, s.id, where + ".id must be an integer");
  }
  if (s.format == Format::Str) {
    const auto it = s.meta.find("API_list");
    if (it == s.meta.end() || !it->is_array())
      fail(source, s.id, "meta.API_list must be a list of API names");
    for (const auto& name : *it) {
      if (!name.is_string()) fail(source, s.id, "meta.API_list must hold strings only");
    }
  }
}

void check_reason_retrieve_understand(Sample& s, const DataKind& kind, const std::string& source) {
  s.format = format_from_meta(s.meta, "response_format").value_or(kind.format);
  Json gt = s.ground_truth;
  if (gt.is_string()) {
    // Some releases store the reference as the text of a dict.
    auto parsed = format_load(gt.get<std::string>(), '{', '}');
    if (!parsed) fail(source, s.id, "ground_truth is text that does not parse as a dict");
    gt = std::move(*parsed);
  }
  if (!gt.is_object()) fail(source, s.id, "ground_truth must be an object {thought, name, args}");
  std::vector<const char*> needed;
  switch (kind.task) {
    case Task::Reason:
      needed = {"thought"};
      break;
    case Task::Retrieve:
      needed = {"name"};
      break;
    case Task::Understand:
      needed = {"args"};
      break;
    default:
      needed = {"thought", "name", "args"};
      break;
  }
  for (const char* key : needed) {
    if (!gt.contains(key)) fail(source, s.id, std::string("ground_truth has no \"") + key + "\"");
  }
  s.ground_truth = std::move(gt);
}

void check_review(Sample& s, const std::string& source) {
  s.format = format_from_meta(s.meta, "response_format").value_or(Format::Str);
  if (s.format != Format::Str) {
    fail(source, s.id,
         "review replies in JSON are not supported (T-Eval scores review as 'Answer: A'-'E' text)");
  }
  if (!s.ground_truth.is_object()) fail(source, s.id, "ground_truth must be an object {answer, ...}");
  const auto it = s.ground_truth.find("answer");
  if (it == s.ground_truth.end() || !it->is_string())
    fail(source, s.id, "ground_truth.answer must be a string");
  const std::string answer = it->get<std::string>();
  if (answer.size() != 1 || answer[0] < 'A' || answer[0] > 'E') {
    fail(source, s.id, "ground_truth.answer must be one of A, B, C, D, E, not '" + answer + "'");
  }
}

Turn read_turn(const Json& turn, size_t index, const std::string& source, const std::string& id) {
  const std::string where = "origin_prompt[" + std::to_string(index) + "]";
  if (!turn.is_object()) fail(source, id, where + " must be an object {role, content}");
  require_string_fields(turn, {"role", "content"}, where, source, id);
  Turn t{turn["role"].get<std::string>(), turn["content"].get<std::string>()};
  static constexpr std::array<std::string_view, 6> kRoles = {"system",   "user",        "assistant",
                                                             "function", "environment", "tool"};
  bool known = false;
  for (auto r : kRoles) known = known || t.role == r;
  if (!known) {
    fail(source, id,
         where + ".role '" + t.role + "' is not one of system, user, assistant, function, environment, tool");
  }
  return t;
}

}  // namespace

std::string_view to_string(Task task) {
  switch (task) {
    case Task::Instruct:
      return "instruct";
    case Task::Plan:
      return "plan";
    case Task::Reason:
      return "reason";
    case Task::Retrieve:
      return "retrieve";
    case Task::Understand:
      return "understand";
    case Task::ReasonRetrieveUnderstand:
      return "reason_retrieve_understand";
    case Task::Review:
      return "review";
  }
  return "?";
}

std::string_view to_string(Format format) {
  return format == Format::Json ? "json" : "str";
}

std::string DataKind::result_key() const {
  switch (task) {
    case Task::Instruct:
      return "instruct";
    case Task::ReasonRetrieveUnderstand:
      return "rru_json";
    default:
      return std::string(to_string(task)) + "_" + std::string(to_string(format));
  }
}

std::optional<DataKind> kind_from_name(std::string_view name) {
  std::string lower(name);
  if (const size_t slash = lower.find_last_of("/\\"); slash != std::string::npos)
    lower = lower.substr(slash + 1);
  for (auto& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const auto& kn : kKindNames) {
    for (size_t at = lower.find(kn.stem); at != std::string::npos; at = lower.find(kn.stem, at + 1)) {
      if (at > 0 && is_name_char(lower[at - 1])) continue;  // "myinstruct" is not "instruct"
      size_t p = at + kn.stem.size();
      DataKind kind{kn.task, kn.format, 0, false};
      if (lower.compare(p, 2, "_v") == 0 && p + 2 < lower.size() &&
          (lower[p + 2] == '1' || lower[p + 2] == '2')) {
        kind.version = lower[p + 2] - '0';
        p += 3;
      }
      if (lower.compare(p, 3, "_zh") == 0) {
        kind.chinese = true;
        p += 3;
      }
      if (p < lower.size() && is_name_char(lower[p])) continue;  // "plan_jsonx", "instruct_v12"
      return kind;
    }
  }
  return std::nullopt;
}

Dataset parse_dataset(const Json& root, const DataKind& kind, const std::string& source) {
  if (!root.is_object())
    fail(source, "", "T-Eval data must be a JSON object keyed by sample id, not " + type_name(root));
  Dataset data;
  data.source = source;
  data.kind = kind;
  for (auto it = root.begin(); it != root.end(); ++it) {
    Sample s;
    s.id = it.key();
    const Json& v = it.value();
    if (!v.is_object()) fail(source, s.id, "must be an object, not " + type_name(v));
    const auto prompt = v.find("origin_prompt");
    if (prompt == v.end() || !prompt->is_array() || prompt->empty()) {
      fail(source, s.id, "origin_prompt must be a non-empty list of {role, content} turns");
    }
    for (size_t i = 0; i < prompt->size(); ++i) s.prompt.push_back(read_turn((*prompt)[i], i, source, s.id));
    const auto gt = v.find("ground_truth");
    if (gt == v.end()) fail(source, s.id, "has no ground_truth");
    s.ground_truth = *gt;
    for (const char* key : {"meta", "meta_data"}) {
      if (const auto m = v.find(key); m != v.end() && !m->is_null()) {
        if (!m->is_object()) fail(source, s.id, std::string(key) + " must be an object");
        s.meta = *m;
      }
    }
    if (const auto t = v.find("template"); t != v.end()) s.reply_template = *t;
    s.format = kind.format;
    switch (kind.task) {
      case Task::Instruct:
        check_instruct(s, source);
        break;
      case Task::Plan:
        check_plan(s, kind, source);
        break;
      case Task::Review:
        check_review(s, source);
        break;
      default:
        check_reason_retrieve_understand(s, kind, source);
        break;
    }
    data.samples.push_back(std::move(s));
  }
  return data;
}

Dataset read_dataset(const std::filesystem::path& path, std::optional<DataKind> kind) {
  const std::string source = path.string();
  if (!kind) kind = kind_from_name(path.filename().string());
  if (!kind) {
    fail(source, "", kUnknownKind);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(source, "", std::string("cannot read: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  Json root;
  try {
    root = Json::parse(ss.str());
  } catch (const Json::parse_error& e) {
    fail(source, "", std::string("not valid JSON: ") + e.what());
  }
  return parse_dataset(root, *kind, source);
}

}  // namespace agentrt::eval::teval
