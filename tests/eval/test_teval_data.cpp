// The T-Eval data reader: kinds from file names, the real v1 samples, and clear errors for malformed data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "eval/teval_data.h"
#include "eval/teval_runner.h"

namespace agentrt::eval::teval {
namespace {

const std::filesystem::path kData = std::filesystem::path(AGENTRT_SOURCE_DIR) / "tests/eval/data/teval";

TEST(TevalKind, EveryT_EvalFileNameMapsToItsTaskAndFormat) {
  struct Case {
    const char* name;
    Task task;
    Format format;
    int version;
    bool zh;
    const char* key;
  };
  const Case cases[] = {
      {"instruct_v1.json", Task::Instruct, Format::Json, 1, false, "instruct"},
      {"instruct_v2_zh.json", Task::Instruct, Format::Json, 2, true, "instruct"},
      {"data/plan_json_v2.json", Task::Plan, Format::Json, 2, false, "plan_json"},
      {"plan_str_v1_zh.json", Task::Plan, Format::Str, 1, true, "plan_str"},
      {"reason_str_v1.json", Task::Reason, Format::Str, 1, false, "reason_str"},
      {"retrieve_str_v2.json", Task::Retrieve, Format::Str, 2, false, "retrieve_str"},
      {"understand_str_v1_zh.json", Task::Understand, Format::Str, 1, true, "understand_str"},
      {"reason_retrieve_understand_json_v2.json", Task::ReasonRetrieveUnderstand, Format::Json, 2, false,
       "rru_json"},
      {"/x/y/review_str_v1.sample.json", Task::Review, Format::Str, 1, false, "review_str"},
      {"Plan_JSON_v1.JSON", Task::Plan, Format::Json, 1, false, "plan_json"},
      {"plan_json", Task::Plan, Format::Json, 0, false, "plan_json"},
      {"review_str_v2_subset.json", Task::Review, Format::Str, 2, false, "review_str"},
  };
  for (const auto& c : cases) {
    const auto kind = kind_from_name(c.name);
    ASSERT_TRUE(kind.has_value()) << c.name;
    EXPECT_EQ(kind->task, c.task) << c.name;
    EXPECT_EQ(kind->format, c.format) << c.name;
    EXPECT_EQ(kind->version, c.version) << c.name;
    EXPECT_EQ(kind->chinese, c.zh) << c.name;
    EXPECT_EQ(kind->result_key(), c.key) << c.name;
  }
  for (const char* other :
       {"data.json", "myinstruct_v1.json", "plan_jsonx_v1.json", "instruct_v12.json", "plan"}) {
    EXPECT_FALSE(kind_from_name(other).has_value()) << other;
  }
}

TEST(TevalData, ReadsTheRealPlanJsonSamples) {
  const Dataset d = read_dataset(kData / "plan_json_v1.sample.json");
  EXPECT_EQ(d.kind.task, Task::Plan);
  ASSERT_EQ(d.samples.size(), 12u);
  const Sample& s = d.samples[0];
  EXPECT_EQ(s.id, "query_0_1");  // file order is kept
  EXPECT_EQ(d.samples[2].id, "query_100_1");
  EXPECT_EQ(s.format, Format::Json);
  ASSERT_EQ(s.prompt.size(), 2u);
  EXPECT_EQ(s.prompt[0].role, "system");
  EXPECT_EQ(s.prompt[1].role, "user");
  EXPECT_NE(s.prompt[1].content.find("Berlin"), std::string::npos);
  ASSERT_EQ(s.ground_truth.size(), 7u);
  EXPECT_EQ(s.ground_truth[0]["name"], "AirbnbSearch.search_property_by_place");
  EXPECT_EQ(s.ground_truth[6]["name"], "FinishAction");
  EXPECT_EQ(s.meta["API_list"].size(), 5u);
}

TEST(TevalData, ReadsTheRealPlanStrSamplesWithTheirApiLists) {
  const Dataset d = read_dataset(kData / "plan_str_v1.sample.json");
  ASSERT_EQ(d.samples.size(), 12u);
  for (const auto& s : d.samples) {
    EXPECT_EQ(s.format, Format::Str) << s.id;
    EXPECT_FALSE(s.meta["API_list"].empty()) << s.id;
  }
  EXPECT_NE(d.samples[0].prompt[0].content.find("Use [api name] to [goal]"), std::string::npos);
}

TEST(TevalData, ReadsTheRealReviewSamplesAndTheirAnswers) {
  const Dataset d = read_dataset(kData / "review_str_v1.sample.json");
  ASSERT_EQ(d.samples.size(), 12u);
  std::string answers;
  for (const auto& s : d.samples) answers += s.ground_truth["answer"].get<std::string>();
  EXPECT_EQ(answers, "BAEADDABAACA");
  EXPECT_EQ(d.samples[0].id, "126");
  EXPECT_EQ(d.samples[0].format, Format::Str);
}

TEST(TevalData, RendersARealSampleWithTheInternLM2Protocol) {
  const Dataset d = read_dataset(kData / "review_str_v1.sample.json");
  const std::string prompt = render_sample(d.samples[0], Flavor::InternLM2);
  EXPECT_EQ(prompt.rfind("<|im_start|>system\nYou are presented with information", 0), 0u);
  EXPECT_NE(prompt.find("<|im_end|>\n<|im_start|>user\nGoal: Retrieve reviews for the second property."),
            std::string::npos);
  const std::string tail = "<|im_end|>\n<|im_start|>assistant\n";
  ASSERT_GE(prompt.size(), tail.size());
  EXPECT_EQ(prompt.substr(prompt.size() - tail.size()), tail);
}

TEST(TevalData, FunctionTurnsBecomePluginEnvironmentTurns) {
  const Json root = Json::parse(R"({"s1": {
      "origin_prompt": [{"role": "system", "content": "tools"}, {"role": "user", "content": "q"},
                        {"role": "assistant", "content": "{\"name\": \"a.b\"}"}, {"role": "function", "content": "42"}],
      "ground_truth": {"thought": "t", "name": "a.b", "args": {}}, "meta_data": {"response_format": "json"}}})");
  const Dataset d = parse_dataset(root, *kind_from_name("reason_retrieve_understand_json_v1"), "rru.json");
  EXPECT_EQ(render_sample(d.samples[0], Flavor::InternLM2),
            "<|im_start|>system\ntools<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"
            "{\"name\": \"a.b\"}<|im_end|>\n<|im_start|>environment name=<|plugin|>\n42<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(TevalData, TakesTheFormatFromEachSamplesMeta) {
  const Json root = Json::parse(R"({
      "a": {"origin_prompt": [{"role": "user", "content": "q"}], "ground_truth": {"action": "x", "args": {}},
            "meta_data": {"response_format": "string"},
            "template": {"thought_start": "T:", "thought_end": "\n", "action_start": "A:", "action_end": "\n",
                         "args_start": "I:", "args_end": ""}},
      "b": {"origin_prompt": [{"role": "user", "content": "q"}], "ground_truth": {"action": "x", "args": {}},
            "meta_data": {"response_format": "json"}, "template": {"thought": "t", "action": "a", "args": "i"}}})");
  const Dataset d = parse_dataset(root, *kind_from_name("instruct_v2"), "instruct_v2.json");
  EXPECT_EQ(d.samples[0].format, Format::Str);
  EXPECT_EQ(d.samples[1].format, Format::Json);
}

// Every malformed sample is reported with the file, the sample id and what is wrong.
void expect_error(const std::string& kind, const std::string& json, const std::string& needle) {
  SCOPED_TRACE(json);
  try {
    parse_dataset(Json::parse(json), *kind_from_name(kind), "bad_file.json");
    ADD_FAILURE() << "no error for " << json;
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad_file.json"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(TevalData, MalformedDataGetsErrorsNamingFileSampleAndField) {
  const std::string prompt = R"("origin_prompt": [{"role": "user", "content": "q"}])";
  expect_error("plan_json", "[1, 2]", "JSON object keyed by sample id");
  expect_error("plan_json", R"({"s7": 3})", "sample 's7': must be an object");
  expect_error("plan_json", R"({"s7": {"ground_truth": []}})", "sample 's7': origin_prompt must be");
  expect_error("plan_json", R"({"s7": {"origin_prompt": [{"role": 1, "content": "x"}], "ground_truth": []}})",
               "origin_prompt[0].\"role\" must be a string");
  expect_error("plan_json",
               R"({"s7": {"origin_prompt": [{"role": "robot", "content": "x"}], "ground_truth": []}})",
               "origin_prompt[0].role 'robot'");
  expect_error("plan_json", "{\"s7\": {" + prompt + "}}", "sample 's7': has no ground_truth");
  expect_error("plan_json", "{\"s7\": {" + prompt + R"(, "ground_truth": [{"id": 0, "name": "a"}]}})",
               "ground_truth[0] has no \"args\"");
  expect_error("plan_json",
               "{\"s7\": {" + prompt + R"(, "ground_truth": [{"id": "x", "name": "a", "args": {}}]}})",
               "ground_truth[0].id must be an integer");
  expect_error("plan_str",
               "{\"s7\": {" + prompt + R"(, "ground_truth": [{"id": 0, "name": "a", "args": {}}]}})",
               "meta.API_list");
  expect_error("review_str", "{\"s7\": {" + prompt + R"(, "ground_truth": {"answer": "F"}}})",
               "one of A, B, C, D, E");
  expect_error("review_str",
               "{\"s7\": {" + prompt +
                   R"(, "ground_truth": {"answer": "A"}, "meta_data": {"response_format": "json"}}})",
               "not supported");
  expect_error("instruct", "{\"s7\": {" + prompt + R"(, "ground_truth": {"action": "a", "args": {}}}})",
               "meta_data.response_format");
  expect_error("instruct",
               "{\"s7\": {" + prompt +
                   R"(, "ground_truth": {"action": "a", "args": {}}, "meta_data": {"response_format": "json"},
                       "template": {"thought": "t", "action": "a"}}})",
               "template has no \"args\"");
  expect_error("retrieve_str", "{\"s7\": {" + prompt + R"(, "ground_truth": {"thought": "t"}}})",
               "ground_truth has no \"name\"");
  expect_error("reason_retrieve_understand_json",
               "{\"s7\": {" + prompt + R"(, "ground_truth": "not a dict"}})", "does not parse as a dict");
}

TEST(TevalData, FileErrorsNameTheFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("teval-data-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "plan_json_v1.json") << "{\"a\": ";
  try {
    read_dataset(dir / "plan_json_v1.json");
    ADD_FAILURE() << "truncated JSON accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("plan_json_v1.json: not valid JSON"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "answers.json") << "{}";
  try {
    read_dataset(dir / "answers.json");
    ADD_FAILURE() << "unknown file name accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot tell what this file evaluates"), std::string::npos)
        << e.what();
  }
  // With the kind given, any name is fine.
  EXPECT_TRUE(read_dataset(dir / "answers.json", kind_from_name("plan_json")).samples.empty());
  try {
    read_dataset(dir / "missing_plan_json_v1.json");
    ADD_FAILURE() << "missing file accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agentrt::eval::teval
