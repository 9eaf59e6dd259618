// T-Eval data (open-compass/T-Eval): a JSON object keyed by sample id, each sample holding `origin_prompt` (a
// list of {role, content} turns), `ground_truth`, and `meta` or `meta_data` (plus `template` for instruct).
// The file name says what a file evaluates: instruct_v1/v2, plan_json_*, plan_str_*, reason_str_*,
// retrieve_str_*, understand_str_*, reason_retrieve_understand_json_* and review_str_*, each also as *_zh.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "agent/schema.h"

namespace agentrt::eval::teval {

// What one data file evaluates; ReasonRetrieveUnderstand scores three dimensions from one JSON reply.
enum class Task { Instruct, Plan, Reason, Retrieve, Understand, ReasonRetrieveUnderstand, Review };
// The reply format the prompt asks for: a JSON value, or free text ("str"; instruct calls it "string").
enum class Format { Json, Str };

std::string_view to_string(Task task);
std::string_view to_string(Format format);

struct DataKind {
  Task task = Task::Instruct;
  Format format = Format::Json;
  int version = 1;  // 0 when the name did not say
  bool chinese = false;

  // T-Eval's key for the result of this kind of file: instruct, plan_json, plan_str, reason_str,
  // retrieve_str, understand_str, rru_json, review_str.
  std::string result_key() const;
};

// Finds the kind in a file name or a kind name ("plan_json", "review_str_v2_zh", "data/plan_str_v1.json",
// "plan_json_v1.sample.json"); nullopt when the name holds none.
std::optional<DataKind> kind_from_name(std::string_view name);

struct Turn {
  std::string role;  // system | user | assistant | function (T-Eval's tool responses)
  std::string content;
};

struct Sample {
  std::string id;
  std::vector<Turn> prompt;      // origin_prompt
  Json ground_truth;             // plan: list of {id, name, args, ...}; review: {answer, ...}; others: object
  Json meta = Json::object();    // `meta` or `meta_data`
  Json reply_template;           // instruct: the `template` naming the reply's fields or delimiters
  Format format = Format::Json;  // from the sample's meta when it says, else from the file's kind
};

struct Dataset {
  std::string source;  // the file (for messages)
  DataKind kind;
  std::vector<Sample> samples;  // in file order
};

// Malformed data: the message names the file, the sample id and the field.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a T-Eval file; its kind comes from `kind`, else from the file name (DataError when neither says).
Dataset read_dataset(const std::filesystem::path& path, std::optional<DataKind> kind = std::nullopt);
// Checks and converts parsed data of a known kind; `source` names it in errors.
Dataset parse_dataset(const Json& root, const DataKind& kind, const std::string& source);

}  // namespace agentrt::eval::teval
