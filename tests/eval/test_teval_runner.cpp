// The T-Eval runner with the scripted backend: what the model is shown, what is scored, and backend failures.
#include <gtest/gtest.h>

#include "agent/backends/backend_scripted.h"
#include "eval/teval_runner.h"

namespace agentrt::eval::teval {
namespace {

using agent::ScriptedBackend;

Dataset review_data() {
  return parse_dataset(Json::parse(R"({
      "r1": {"origin_prompt": [{"role": "system", "content": "Judge the response."},
                               {"role": "user", "content": "Goal: weather\nResponse: 500 error"}],
             "ground_truth": {"answer": "B"}, "meta_data": {"response_format": "str"}},
      "r2": {"origin_prompt": [{"role": "user", "content": "Goal: news\nResponse: []"}],
             "ground_truth": {"answer": "E"}, "meta_data": {"response_format": "str"}},
      "r3": {"origin_prompt": [{"role": "user", "content": "Goal: time\nResponse: 12:00"}],
             "ground_truth": {"answer": "A"}, "meta_data": {"response_format": "str"}}})"),
                       *kind_from_name("review_str_v2"), "review_str_v2.json");
}

TEST(TevalRunner, RendersEachPromptGeneratesAndScores) {
  ScriptedBackend backend({"Answer: B", "Answer: A<|im_end|>", "I am not sure"});
  std::vector<std::string> seen;
  const FileResult r = run_file(review_data(), backend, RunOptions{},
                                [&](const FileResult&, const SampleResult& s) { seen.push_back(s.id); });
  EXPECT_EQ(seen, (std::vector<std::string>{"r1", "r2", "r3"}));
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.samples[1].reply, "Answer: A");  // a trailing end-of-turn marker is not part of the reply
  EXPECT_DOUBLE_EQ(r.metrics["review_quality"].get<double>(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.metrics["parse_rate"].get<double>(), 2.0 / 3.0);

  const auto prompts = backend.prompts();
  ASSERT_EQ(prompts.size(), 3u);
  EXPECT_EQ(
      prompts[0],
      "<|im_start|>system\nJudge the response.<|im_end|>\n<|im_start|>user\nGoal: weather\nResponse: 500 "
      "error<|im_end|>\n<|im_start|>assistant\n");
  const auto params = backend.params();
  EXPECT_EQ(params[0].max_tokens, 1024);
  EXPECT_NE(std::find(params[0].stop.begin(), params[0].stop.end(), "<|im_end|>"), params[0].stop.end());
}

TEST(TevalRunner, LimitRunsTheFirstSamples) {
  ScriptedBackend backend({"Answer: B"});
  RunOptions options;
  options.limit = 1;
  const FileResult r = run_file(review_data(), backend, options);
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.available, 3u);
  EXPECT_DOUBLE_EQ(r.metrics["review_quality"].get<double>(), 1.0);
}

TEST(TevalRunner, ABackendFailureStopsTheFileAndNamesTheSample) {
  ScriptedBackend backend({"Answer: B"});  // one reply for three samples
  const FileResult r = run_file(review_data(), backend, RunOptions{});
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_NE(r.error.find("sample 'r2'"), std::string::npos) << r.error;
  EXPECT_DOUBLE_EQ(r.metrics["review_quality"].get<double>(), 1.0);  // the samples before it still count
}

TEST(TevalRunner, SummaryAndResultsJson) {
  ScriptedBackend backend({"Answer: B", "Answer: E", "Answer: C"});
  const std::vector<FileResult> files = {run_file(review_data(), backend, RunOptions{})};
  const Json summary = summary_json(files, backend.name());
  EXPECT_EQ(summary["benchmark"], "T-Eval");
  EXPECT_EQ(summary["backend"], "scripted");
  EXPECT_EQ(summary["samples"], 3);
  EXPECT_DOUBLE_EQ(summary["parse_rate"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(summary["dimensions"]["review"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(summary["dimensions"]["overall"].get<double>(), 2.0 / 3.0);
  EXPECT_FALSE(summary["dimensions"]["complete"].get<bool>());
  EXPECT_EQ(summary["files"][0]["kind"], "review_str");
  EXPECT_EQ(summary["files"][0]["version"], 2);
  EXPECT_EQ(summary["similarity"]["method"], "lexical-cosine");
  const Json results = results_json(files);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2]["id"], "r3");
  EXPECT_EQ(results[2]["extracted"], "C");
  EXPECT_DOUBLE_EQ(results[2]["metrics"]["review_quality"].get<double>(), 0.0);
}

}  // namespace
}  // namespace agentrt::eval::teval
