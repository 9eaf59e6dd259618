// T-Eval's metrics (open-compass/T-Eval, teval/evaluators/*.py and utils/convert_results.py), per sample and
// summed up, under T-Eval's metric names so results line up with theirs:
//   instruct   json_/string_format_metric (the reply has the asked-for form) and json_/string_args_em_metric
//              ((action name equal + each reference argument equal) / (number of reference arguments + 1));
//              the dimension is the mean over the two formats of (format + args_em) / 2.
//   plan       steps matched one-to-one by similarity of name (weight 0.75) and arguments (0.25) above 0.8
//              (maximum-weight matching), in-order steps counted by the longest increasing subsequence of the
//              matched reference positions; precision, recall, f1_score. The dimension is f1_score.
//   reason     `thought`: similarity of the reply's thought to the reference thought.
//   retrieve   `name`: the tool name equals the reference (JSON), or the text names it and no other API
//   (str). understand `args`: similarity of the reply's arguments to the reference arguments (as Python dict
//   text). review     `review_quality`: the letter after "Answer:" equals the reference (A-E).
// Every sample also gets `parse_rate` (1 when the reply could be read in the asked-for form). Similarity is
// lexical here (see teval_similarity.h); everything else is exact.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/teval_data.h"

namespace agentrt::eval::teval {

struct SampleScore {
  bool parsed = false;            // the reply had the asked-for form
  Json extracted;                 // what was read from the reply (thought / action / args / steps / letter)
  Json metrics = Json::object();  // T-Eval metric name → value in [0, 1]
};

// Scores one reply to a sample of a file of kind `kind`.
SampleScore score_sample(const Sample& sample, const DataKind& kind, std::string_view reply);

// --- instruct ---
// T-Eval's parse_string for delimiter templates: `literals` are the n+1 fixed texts around n fields; a field
// takes as much text as it can while the rest still matches (a regex of greedy "(.*)" groups, first match).
std::optional<std::vector<std::string>> split_by_template(std::string_view text,
                                                          const std::vector<std::string>& literals);

// --- retrieve (str replies) ---
// Every "word.word" in the text (Python's re.findall(r'\w+\.\w+')), in order.
std::vector<std::string> dotted_names(std::string_view text);

// --- plan ---
struct PlanStep {
  long long id = 0;
  std::string name;
  std::string args;  // Python str() of the arguments, or the step's line for str replies
};

struct PlanWeights {
  double name = 0.75;
  double args = 0.25;
  double threshold = 0.8;  // a pair must score above this to be matched
};

struct PlanMatch {
  double precision = 0;
  double recall = 0;
  double f1_score = 0;
  size_t in_order = 0;  // steps counted as correct
  std::vector<int>
      pred_to_reference;  // per predicted step (FinishAction dropped): matched reference step or -1
};

// A plan given as a list of {id, name, args} (T-Eval's format_load of plans); empty when any step lacks them.
std::vector<PlanStep> plan_steps_from_list(const Json& steps);
// A plan reply in "str" form: one step per line (". " also ends a line), named by the first API of
// `api_names` that occurs in it; lines naming none are skipped.
std::vector<PlanStep> plan_steps_from_text(std::string_view reply, const std::vector<std::string>& api_names);
// Matches two plans as T-Eval's bertscore_match does (a trailing FinishAction step is dropped from each).
PlanMatch match_plans(std::vector<PlanStep> predicted, std::vector<PlanStep> reference,
                      const PlanWeights& weights = {});

// --- summaries ---
// The mean of each metric over the samples that have it.
Json summarize_metrics(const std::vector<SampleScore>& scores);

struct FileMetrics {
  DataKind kind;
  Json metrics;  // summarize_metrics of the file
};

// The six T-Eval dimensions from the files' metrics (convert_results.py: each dimension is the mean of the
// figures the files give it), their mean as "overall", and which dimensions no file covered. Values in [0,
// 1]; a dimension no file covered is null and the overall is then over the covered ones ("complete": false).
Json dimension_scores(const std::vector<FileMetrics>& files);

}  // namespace agentrt::eval::teval
