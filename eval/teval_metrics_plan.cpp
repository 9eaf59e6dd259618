// T-Eval's plan metric (PlanningEvaluator.bertscore_match): steps are paired one-to-one by a weighted
// similarity of names and arguments, and the pairs that keep the reference's order are counted.
#include <algorithm>
#include <limits>

#include "eval/teval_metrics.h"
#include "eval/teval_pyliteral.h"
#include "eval/teval_similarity.h"

namespace agentrt::eval::teval {
namespace {

constexpr std::string_view kFinishAction = "FinishAction";

// Maximum-weight assignment of rows to columns (Hungarian algorithm with potentials, O(n^3)); weights >= 0,
// a zero weight meaning "no edge". Returns, per row, the column it is assigned to or -1.
std::vector<int> max_weight_assignment(const std::vector<std::vector<double>>& w, size_t cols) {
  const size_t rows = w.size();
  const size_t n = std::max(rows, cols);
  if (n == 0) return {};
  const double inf = std::numeric_limits<double>::infinity();
  // cost[i][j] (1-based) = -weight: minimising cost maximises weight; padding rows and columns cost 0.
  const auto cost = [&](size_t i, size_t j) { return (i <= rows && j <= cols) ? -w[i - 1][j - 1] : 0.0; };
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<size_t> row_of(n + 1, 0), way(n + 1, 0);
  for (size_t i = 1; i <= n; ++i) {
    row_of[0] = i;
    size_t j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[j0] = true;
      const size_t i0 = row_of[j0];
      double delta = inf;
      size_t j1 = 0;
      for (size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (size_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[j0] != 0);
    do {
      const size_t j1 = way[j0];
      row_of[j0] = row_of[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> col_of_row(rows, -1);
  for (size_t j = 1; j <= cols; ++j) {
    const size_t i = row_of[j];
    if (i >= 1 && i <= rows && w[i - 1][j - 1] > 0) col_of_row[i - 1] = static_cast<int>(j - 1);
  }
  return col_of_row;
}

void sort_and_drop_finish(std::vector<PlanStep>& plan) {
  std::stable_sort(plan.begin(), plan.end(),
                   [](const PlanStep& a, const PlanStep& b) { return a.id < b.id; });
  if (!plan.empty() && plan.back().name == kFinishAction) plan.pop_back();
}

}  // namespace

std::vector<PlanStep> plan_steps_from_list(const Json& steps) {
  if (!steps.is_array()) return {};
  std::vector<PlanStep> out;
  for (const auto& step : steps) {
    if (!step.is_object() || !step.contains("name") || !step.contains("id") || !step.contains("args"))
      return {};
    const auto id = py_int(step["id"]);
    if (!id) return {};
    out.push_back(PlanStep{*id, py_str(step["name"]), py_str(step["args"])});
  }
  return out;
}

std::vector<PlanStep> plan_steps_from_text(std::string_view reply,
                                           const std::vector<std::string>& api_names) {
  std::string text(reply);
  for (size_t at = text.find(". "); at != std::string::npos; at = text.find(". ", at + 1))
    text.replace(at, 2, "\n");
  std::vector<PlanStep> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + begin, end - begin);
    size_t first = std::string_view::npos;
    const std::string* chosen = nullptr;
    for (const auto& api : api_names) {
      const size_t at = line.find(api);
      if (at != std::string_view::npos && (first == std::string_view::npos || at < first)) {
        first = at;
        chosen = &api;
      }
    }
    if (chosen != nullptr) {
      out.push_back(PlanStep{static_cast<long long>(out.size()), *chosen, std::string(line)});
    }
    begin = end + 1;
  }
  return out;
}

PlanMatch match_plans(std::vector<PlanStep> predicted, std::vector<PlanStep> reference,
                      const PlanWeights& weights) {
  PlanMatch m;
  if (predicted.empty() || reference.empty()) return m;
  sort_and_drop_finish(predicted);
  sort_and_drop_finish(reference);
  m.pred_to_reference.assign(predicted.size(), -1);
  if (predicted.empty() || reference.empty()) {
    // Only FinishAction was left to compare: a match when both plans are just that.
    if (predicted.empty() && reference.empty()) m.precision = m.recall = m.f1_score = 1;
    return m;
  }
  // A reference step without arguments ("{}") can only be judged by its name: word overlap with a str plan's
  // line would always be 0 there, where T-Eval's embeddings still see two short texts as somewhat alike.
  std::vector<bool> has_args(reference.size());
  for (size_t j = 0; j < reference.size(); ++j) has_args[j] = !words_of(reference[j].args).empty();
  std::vector<std::vector<double>> w(predicted.size(), std::vector<double>(reference.size(), 0.0));
  for (size_t i = 0; i < predicted.size(); ++i) {
    for (size_t j = 0; j < reference.size(); ++j) {
      const double args = has_args[j] ? lexical_similarity(predicted[i].args, reference[j].args) : 1.0;
      const double score =
          lexical_similarity(predicted[i].name, reference[j].name) * weights.name + args * weights.args;
      if (score > weights.threshold) {
        // Among equally good matchings (repeated identical steps), prefer the one that keeps the order.
        const double order_penalty = 1e-9 * std::abs(static_cast<double>(i) - static_cast<double>(j));
        w[i][j] = score - order_penalty;
      }
    }
  }
  m.pred_to_reference = max_weight_assignment(w, reference.size());
  // Longest chain of predicted steps whose matched reference positions increase. As in T-Eval, every step
  // starts a chain of length 1, matched or not, so a non-empty plan counts at least one step.
  std::vector<size_t> chain(predicted.size(), 1);
  for (size_t i = 0; i < predicted.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const int a = m.pred_to_reference[i];
      const int b = m.pred_to_reference[j];
      if (a >= 0 && b >= 0 && a > b) chain[i] = std::max(chain[i], chain[j] + 1);
    }
  }
  m.in_order = *std::max_element(chain.begin(), chain.end());
  m.recall = static_cast<double>(m.in_order) / static_cast<double>(reference.size());
  m.precision = static_cast<double>(m.in_order) / static_cast<double>(predicted.size());
  m.f1_score = 2 * m.recall * m.precision / (m.recall + m.precision);
  return m;
}

}  // namespace agentrt::eval::teval
