// `agentrt eval teval` end to end: the real binary on small T-Eval files with scripted replies.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/schema.h"
#include "tests/apps/cli_runner.h"

namespace agentrt {
namespace {

using testing::run_cli;
using testing::temp_file;

Json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

const char* kInstruct = R"({
  "i1": {"origin_prompt": [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "Weather?"}],
         "template": {"thought": "thought", "action": "name", "args": "args"},
         "meta_data": {"response_format": "json"},
         "ground_truth": {"action": "get_weather", "args": {"city": "Paris"}}},
  "i2": {"origin_prompt": [{"role": "user", "content": "Time?"}],
         "template": {"thought_start": "Thought:", "thought_end": "\n", "action_start": "Action:",
                      "action_end": "\n", "args_start": "Action Input:", "args_end": ""},
         "meta_data": {"response_format": "string"},
         "ground_truth": {"action": "get_time", "args": {"zone": "UTC", "fmt": "24h"}}}})";

const char* kReview = R"({
  "r1": {"origin_prompt": [{"role": "user", "content": "Response: 500"}], "ground_truth": {"answer": "B"},
         "meta_data": {"response_format": "str"}},
  "r2": {"origin_prompt": [{"role": "user", "content": "Response: []"}], "ground_truth": {"answer": "E"},
         "meta_data": {"response_format": "str"}}})";

const char* kPlan = R"({
  "p1": {"origin_prompt": [{"role": "user", "content": "Plan it."}], "meta": {"prompt_type": "json"},
         "ground_truth": [{"id": 0, "name": "Maps.search", "args": {"q": "cafe"}},
                          {"id": 1, "name": "Maps.route", "args": {"to": "cafe"}},
                          {"id": 2, "name": "FinishAction", "args": {}}]}})";

TEST(EvalCli, ScoresSeveralFilesIntoTheT_EvalDimensions) {
  const std::string instruct = temp_file("instruct_v2.json", kInstruct);
  const std::string review = temp_file("review_str_v2.json", kReview);
  const std::string plan = temp_file("plan_json_v2.json", kPlan);
  const Json replies = Json::array({
      R"({"thought": "t", "name": "get_weather", "args": {"city": "Paris"}})",
      "Thought: t\nAction: get_time\nAction Input: {'zone': 'UTC'}",
      "Answer: B",
      "Answer: C",
      R"([{"id": 0, "name": "Maps.search", "args": {"q": "cafe"}}])",
  });
  const std::string script = temp_file("teval_replies.json", replies.dump());
  const std::string out = temp_file("teval_out.json", "");
  const auto r = run_cli("eval teval --quiet --data '" + instruct + "' '" + review + "' '" + plan +
                         "' --script '" + script + "' --out '" + out + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  const Json printed = Json::parse(r.out);
  const Json report = read_json(out);
  EXPECT_EQ(report["summary"], printed);
  const Json& dims = printed["dimensions"];
  // instruct: json (1 + 1) / 2 and string (1 + 2/3) / 2, averaged: 11/12.
  EXPECT_NEAR(dims["instruct"].get<double>(), 11.0 / 12.0, 1e-12);
  EXPECT_NEAR(dims["review"].get<double>(), 0.5, 1e-12);
  // plan: one of two steps, in order: precision 1, recall 1/2, F1 2/3.
  EXPECT_NEAR(dims["plan"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(dims["overall"].get<double>(), 25.0 / 36.0, 1e-12);
  EXPECT_FALSE(dims["complete"].get<bool>());
  EXPECT_EQ(printed["samples"], 5);
  EXPECT_DOUBLE_EQ(printed["parse_rate"].get<double>(), 1.0);
  EXPECT_EQ(printed["similarity"]["method"], "lexical-cosine");
  ASSERT_EQ(report["results"].size(), 5u);
  EXPECT_EQ(report["results"][1]["id"], "i2");
  EXPECT_NEAR(report["results"][1]["metrics"]["string_args_em_metric"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(report["results"][3]["extracted"], "C");
}

TEST(EvalCli, RunsTheRealReviewSamplesWithALimit) {
  const std::string data =
      std::string(AGENTRT_SOURCE_DIR) + "/tests/eval/data/teval/review_str_v1.sample.json";
  // The first three answers are B, A, E.
  const std::string script = temp_file("review_replies.json", R"(["Answer: B", "Answer: A", "Answer: A"])");
  const std::string out = temp_file("review_out.json", "");
  const auto r =
      run_cli("eval teval --data '" + data + "' --script '" + script + "' --out '" + out + "' --limit 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("[review_str 3/3] 151 review_quality=0.000"), std::string::npos) << r.out;
  const Json report = read_json(out);
  EXPECT_NEAR(report["summary"]["dimensions"]["review"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(report["summary"]["files"][0]["available"], 12);
  EXPECT_EQ(report["summary"]["files"][0]["samples"], 3);
}

TEST(EvalCli, MalformedDataFailsBeforeAnyGenerationNamingFileAndSample) {
  const std::string data = temp_file(
      "review_str_v1.json",
      R"({"ok": {"origin_prompt": [{"role": "user", "content": "x"}], "ground_truth": {"answer": "A"}},
                               "broken": {"origin_prompt": [{"role": "user"}], "ground_truth": {"answer": "A"}}})");
  const std::string out = temp_file("broken_out.json", "");
  const auto r = run_cli("eval teval --data '" + data + "' --out '" + out + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("review_str_v1.json: sample 'broken': origin_prompt[0] has no \"content\""),
            std::string::npos)
      << r.out;
}

TEST(EvalCli, ClearErrorsForConflictingBackendsAndUnknownFileKinds) {
  const std::string data = temp_file("review_str_v2.json", kReview);
  const std::string out = temp_file("none_out.json", "");
  // (With no backend flag the bundled demo model runs, when it is built; two backends are always an error.)
  const auto both = run_cli("eval teval --data '" + data + "' --script '" + data +
                            "' --endpoint http://127.0.0.1:9 --out '" + out + "'");
  EXPECT_EQ(both.status, 1);
  EXPECT_NE(both.out.find("choose one backend"), std::string::npos) << both.out;

  const std::string odd = temp_file("answers.json", kReview);
  const std::string script = temp_file("two_replies.json", R"(["Answer: B", "Answer: E"])");
  const auto unknown =
      run_cli("eval teval --data '" + odd + "' --script '" + script + "' --out '" + out + "'");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.out.find("cannot tell what this file evaluates"), std::string::npos) << unknown.out;
  const auto named = run_cli("eval teval --quiet --kind review_str --data '" + odd + "' --script '" + script +
                             "' --out '" + out + "'");
  ASSERT_EQ(named.status, 0) << named.out;
  EXPECT_DOUBLE_EQ(Json::parse(named.out)["dimensions"]["review"].get<double>(), 1.0);
  const auto bad_kind =
      run_cli("eval teval --kind plans --data '" + odd + "' --script '" + script + "' --out '" + out + "'");
  EXPECT_EQ(bad_kind.status, 1);
  EXPECT_NE(bad_kind.out.find("--kind 'plans' is not a T-Eval kind"), std::string::npos) << bad_kind.out;
}

TEST(EvalCli, ABackendFailureKeepsTheScoredSamplesAndExitsWithAnError) {
  const std::string data = temp_file("review_str_v2.json", kReview);
  const std::string script = temp_file("one_reply.json", R"(["Answer: B"])");
  const std::string out = temp_file("partial_out.json", "");
  const auto r =
      run_cli("eval teval --quiet --data '" + data + "' --script '" + script + "' --out '" + out + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("sample 'r2': the model backend failed"), std::string::npos) << r.out;
  const Json report = read_json(out);
  ASSERT_EQ(report["results"].size(), 1u);
  EXPECT_DOUBLE_EQ(report["summary"]["dimensions"]["review"].get<double>(), 1.0);
  EXPECT_TRUE(report["summary"]["files"][0].contains("error"));
}

}  // namespace
}  // namespace agentrt
