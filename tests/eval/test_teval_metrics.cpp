// T-Eval's metrics on samples written for the tests in T-Eval's format, each score computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/teval_data.h"
#include "eval/teval_metrics.h"
#include "eval/teval_similarity.h"

namespace agentrt::eval::teval {
namespace {

Sample one_sample(const std::string& kind, const std::string& sample_json) {
  const Dataset d =
      parse_dataset(Json::parse("{\"s\": " + sample_json + "}"), *kind_from_name(kind), "test.json");
  return d.samples.at(0);
}

SampleScore score(const std::string& kind, const std::string& sample_json, std::string_view reply) {
  return score_sample(one_sample(kind, sample_json), *kind_from_name(kind), reply);
}

double metric(const SampleScore& s, const char* key) {
  EXPECT_TRUE(s.metrics.contains(key)) << key << " in " << s.metrics.dump();
  return s.metrics.value(key, -1.0);
}

// ---------------------------------------------------------------- similarity

TEST(TevalSimilarity, WordsAreLowercaseRunsAndSingleCjkCharacters) {
  EXPECT_EQ(words_of("AirbnbSearch.get_property_details"),
            (std::vector<std::string>{"airbnbsearch", "get_property_details"}));
  EXPECT_EQ(words_of("{'place': 'Berlin', 'n': 3}"), (std::vector<std::string>{"place", "berlin", "n", "3"}));
  EXPECT_EQ(words_of("查询北京 weather！"), (std::vector<std::string>{"查", "询", "北", "京", "weather"}));
  EXPECT_EQ(words_of("Café-crème"), (std::vector<std::string>{"café", "crème"}));
}

TEST(TevalSimilarity, CosineOfWordCounts) {
  EXPECT_DOUBLE_EQ(lexical_similarity("a b", "a c"), 0.5);
  EXPECT_DOUBLE_EQ(lexical_similarity("Search THE weather", "search the weather!"), 1.0);
  // {search, the, weather, in, paris} vs {i, need, to, search, the, weather}: 3 / sqrt(5 * 6).
  EXPECT_NEAR(lexical_similarity("search the weather in paris", "I need to search the weather"),
              3 / std::sqrt(30.0), 1e-12);
  EXPECT_NEAR(lexical_similarity("a a b", "a b"), 3 / (std::sqrt(5.0) * std::sqrt(2.0)), 1e-12);
  EXPECT_DOUBLE_EQ(lexical_similarity("{}", ""), 1.0);  // nothing to compare on either side
  EXPECT_DOUBLE_EQ(lexical_similarity("{}", "{'a': 1}"), 0.0);
}

// ---------------------------------------------------------------- instruct

const std::string kInstructJson = R"({"origin_prompt": [{"role": "user", "content": "q"}],
    "template": {"thought": "thought", "action": "name", "args": "args"},
    "meta_data": {"response_format": "json"},
    "ground_truth": {"action": "get_weather", "args": {"city": "Paris", "unit": "C"}}})";

TEST(TevalInstruct, JsonReplyScoresFormatAndArgumentExactMatch) {
  // Name right, city right, unit wrong: (1 + 1 + 0) / (2 + 1).
  const auto s =
      score("instruct", kInstructJson,
            R"({"thought": "look it up", "name": "get_weather", "args": {"city": "Paris", "unit": "F"}})");
  EXPECT_TRUE(s.parsed);
  EXPECT_DOUBLE_EQ(metric(s, "json_format_metric"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "json_args_em_metric"), 2.0 / 3.0);
  EXPECT_EQ(s.extracted["action"], "get_weather");
  // Python-literal replies count too; an extra argument costs nothing, a missing one its share.
  const auto p =
      score("instruct", kInstructJson, "{'thought': '', 'name': 'get_weather', 'args': {'city': 'Paris'}}");
  EXPECT_DOUBLE_EQ(metric(p, "json_args_em_metric"), 2.0 / 3.0);
  const auto wrong =
      score("instruct", kInstructJson,
            R"({"thought": "", "name": "get_time", "args": {"city": "Paris", "unit": "C", "x": 1}})");
  EXPECT_DOUBLE_EQ(metric(wrong, "json_args_em_metric"), 2.0 / 3.0);
}

TEST(TevalInstruct, UnreadableJsonReplyScoresZeroAndCountsAgainstParseRate) {
  for (const char* reply :
       {"I would call get_weather for Paris.", R"({"thought": "x", "name": "get_weather"})",
        R"(["get_weather", {"city": "Paris"}])"}) {
    const auto s = score("instruct", kInstructJson, reply);
    EXPECT_FALSE(s.parsed) << reply;
    EXPECT_DOUBLE_EQ(metric(s, "json_format_metric"), 0.0);
    EXPECT_DOUBLE_EQ(metric(s, "json_args_em_metric"), 0.0);
    EXPECT_DOUBLE_EQ(metric(s, "parse_rate"), 0.0);
  }
}

const std::string kInstructString = R"({"origin_prompt": [{"role": "user", "content": "q"}],
    "template": {"thought_start": "Thought:", "thought_end": "\n", "action_start": "Action:", "action_end": "\n",
                 "args_start": "Action Input:", "args_end": ""},
    "meta_data": {"response_format": "string"},
    "ground_truth": {"action": "get_weather", "args": {"city": "Paris", "unit": "C"}}})";

TEST(TevalInstruct, StringReplyIsReadWithTheTemplatesDelimiters) {
  const auto s = score(
      "instruct", kInstructString,
      "Thought: I need the weather\nAction: get_weather \nAction Input: {'city': 'Paris', 'unit': 'C'}");
  EXPECT_TRUE(s.parsed);
  EXPECT_DOUBLE_EQ(metric(s, "string_format_metric"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "string_args_em_metric"), 1.0);
  EXPECT_EQ(s.extracted["thought"], " I need the weather");
  EXPECT_EQ(s.extracted["action"], "get_weather");
  // Arguments that are no dict still leave the reply well-formed; only the action name matches: 1 / 3.
  const auto t =
      score("instruct", kInstructString, "Thought: x\nAction: get_weather\nAction Input: Paris, C");
  EXPECT_DOUBLE_EQ(metric(t, "string_format_metric"), 1.0);
  EXPECT_DOUBLE_EQ(metric(t, "string_args_em_metric"), 1.0 / 3.0);
  // No "Action:" line: not the asked-for form.
  const auto u = score("instruct", kInstructString, "Thought: x\nAction Input: {'city': 'Paris'}");
  EXPECT_FALSE(u.parsed);
  EXPECT_DOUBLE_EQ(metric(u, "string_format_metric"), 0.0);
}

TEST(TevalInstruct, TemplateFieldsAreGreedyLikeTEvalsRegex) {
  const auto f = split_by_template("x<b>c>d", {"<", ">", ""});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ((*f)[0], "b>c");
  EXPECT_EQ((*f)[1], "d");
  const auto g = split_by_template("pre [1] mid [2] end", {"[", "]", "[", "]"});
  ASSERT_TRUE(g.has_value());
  // The first field cannot take "1] mid [2": no "[" follows the last "]".
  EXPECT_EQ(*g, (std::vector<std::string>{"1", " mid ", "2"}));
  EXPECT_FALSE(split_by_template("no markers", {"[", "]", ""}).has_value());
  EXPECT_FALSE(split_by_template("] before [", {"[", "]"}).has_value());
}

// ---------------------------------------------------------------- review

const std::string kReview = R"({"origin_prompt": [{"role": "user", "content": "q"}], "template": "",
    "meta_data": {"response_format": "str"}, "ground_truth": {"answer": "B", "thought": "proxy error"}})";

TEST(TevalReview, TheLetterAfterTheFirstColonIsTheAnswer) {
  struct Case {
    const char* reply;
    bool parsed;
    double quality;
  } cases[] = {
      {"Answer: B", true, 1},    {"Answer:B\nThe tool failed.", true, 1},
      {"Answer: A", true, 0},    {"B", true, 1},  // no colon: the whole reply is read
      {"Answer: b", false, 0},   {"The answer is clear: E.", true, 0},
      {"Answer: [B]", false, 0}, {"", false, 0},
  };
  std::vector<SampleScore> all;
  for (const auto& c : cases) {
    const auto s = score("review_str", kReview, c.reply);
    EXPECT_EQ(s.parsed, c.parsed) << c.reply;
    EXPECT_DOUBLE_EQ(metric(s, "review_quality"), c.quality) << c.reply;
    all.push_back(s);
  }
  const Json summary = summarize_metrics(all);
  EXPECT_DOUBLE_EQ(summary["review_quality"].get<double>(), 3.0 / 8.0);
  EXPECT_DOUBLE_EQ(summary["parse_rate"].get<double>(), 5.0 / 8.0);
}

// ---------------------------------------------------------------- reason, retrieve, understand

const std::string kRru = R"({"origin_prompt": [{"role": "user", "content": "q"}],
    "meta_data": {"response_format": "json"},
    "ground_truth": {"thought": "I need to search the weather", "name": "Weather.get_current",
                     "args": {"city": "Paris", "unit": "C"}}})";

TEST(TevalReasonRetrieveUnderstand, JsonReplyScoresAllThree) {
  const auto s =
      score("reason_retrieve_understand_json", kRru,
            "Sure: {\"thought\": \"search the weather in paris\", \"name\": \"Weather.get_current\", "
            "\"args\": {\"city\": \"Paris\"}} done");
  EXPECT_TRUE(s.parsed);
  EXPECT_NEAR(metric(s, "thought"), 3 / std::sqrt(30.0), 1e-12);
  EXPECT_DOUBLE_EQ(metric(s, "name"), 1.0);
  // "{'city': 'Paris'}" vs "{'city': 'Paris', 'unit': 'C'}": {city, paris} vs {city, paris, unit, c}.
  EXPECT_NEAR(metric(s, "args"), 2 / (std::sqrt(2.0) * 2), 1e-12);
  EXPECT_DOUBLE_EQ(metric(s, "parse_rate"), 1.0);

  const auto wrong = score("reason_retrieve_understand_json", kRru,
                           R"({"thought": "I need to search the weather", "name": "Weather.get_forecast",
                               "args": "city=Paris"})");
  EXPECT_DOUBLE_EQ(metric(wrong, "thought"), 1.0);
  EXPECT_DOUBLE_EQ(metric(wrong, "name"), 0.0);
  EXPECT_DOUBLE_EQ(metric(wrong, "args"), 0.0);  // arguments that are no dict count as {}

  const auto bad = score("reason_retrieve_understand_json", kRru, "I will call Weather.get_current.");
  EXPECT_FALSE(bad.parsed);
  for (const char* key : {"thought", "name", "args", "parse_rate"}) EXPECT_DOUBLE_EQ(metric(bad, key), 0.0);
}

// The str files: the reply is free text, as each sample's meta says.
const std::string kRruStr = R"({"origin_prompt": [{"role": "user", "content": "q"}],
    "meta_data": {"response_format": "str"},
    "ground_truth": {"thought": "I need to search the weather", "name": "Weather.get_current",
                     "args": {"city": "Paris", "unit": "C"}}})";

TEST(TevalReasonRetrieveUnderstand, StrRepliesAreComparedWhole) {
  const auto reason = score("reason_str_v1", kRruStr, "search the weather in paris");
  EXPECT_NEAR(metric(reason, "thought"), 3 / std::sqrt(30.0), 1e-12);
  EXPECT_DOUBLE_EQ(metric(reason, "parse_rate"), 1.0);
  EXPECT_FALSE(reason.metrics.contains("name"));

  const auto understand = score("understand_str_v1", kRruStr, "{'city': 'Paris'}");
  EXPECT_NEAR(metric(understand, "args"), 1 / std::sqrt(2.0), 1e-12);
}

TEST(TevalReasonRetrieveUnderstand, RetrieveStrNeedsTheNameAndNoOtherApi) {
  struct Case {
    const char* reply;
    double name;
  } cases[] = {
      {"Weather.get_current", 1},
      {"I will use Weather.get_current now", 1},
      {"Weather.get_current, then Weather.get_forecast", 0},
      {"Weather.get_forecast", 0},
      {"Weather.get_current or FinishAction", 0},
      {"e.g. Weather.get_current", 0},  // T-Eval's \w+\.\w+ also catches "e.g"
  };
  for (const auto& c : cases) {
    EXPECT_DOUBLE_EQ(metric(score("retrieve_str_v1", kRruStr, c.reply), "name"), c.name) << c.reply;
  }
  EXPECT_EQ(dotted_names("a.b.c x_1.y2, 3.5 end."), (std::vector<std::string>{"a.b", "x_1.y2", "3.5"}));
}

// ---------------------------------------------------------------- plan

std::string plan_sample(const std::string& format, const std::string& steps) {
  return R"({"origin_prompt": [{"role": "user", "content": "q"}], "meta": {"prompt_type": ")" + format +
         R"(", "API_list": ["Airbnb.search_by_place", "Airbnb.get_reviews", "Airbnb.get_details", "Arxiv.search"]},
             "ground_truth": )" +
         steps + "}";
}

// Three steps and FinishAction, the shape of T-Eval's references.
const std::string kPlanSteps = R"([
    {"id": 0, "prev": [], "name": "Airbnb.search_by_place", "args": {"place": "Berlin"}},
    {"id": 1, "prev": [0], "name": "Airbnb.get_reviews", "args": {"propertyId": 36339325}},
    {"id": 2, "prev": [1], "name": "Arxiv.search", "args": {"query": "solar energy"}},
    {"id": 3, "prev": [2], "name": "FinishAction", "args": {}}])";

const char* kStepA = R"({"id": 0, "name": "Airbnb.search_by_place", "args": {"place": "Berlin"}})";
const char* kStepB = R"({"id": 1, "name": "Airbnb.get_reviews", "args": {"propertyId": 36339325}})";
const char* kStepC = R"({"id": 2, "name": "Arxiv.search", "args": {"query": "solar energy"}})";

std::string plan_reply(std::vector<std::string> steps) {
  std::string out = "[";
  for (size_t i = 0; i < steps.size(); ++i) {
    Json step = Json::parse(steps[i]);
    step["id"] = i;
    out += (i ? ", " : "") + step.dump();
  }
  return out + "]";
}

TEST(TevalPlan, TheSamePlanScoresOne) {
  const auto s = score("plan_json", plan_sample("json", kPlanSteps), plan_reply({kStepA, kStepB, kStepC}));
  EXPECT_DOUBLE_EQ(metric(s, "precision"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "recall"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "f1_score"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "parse_rate"), 1.0);
}

TEST(TevalPlan, AMissingStepCostsRecall) {
  // A and C matched in order: precision 2/2, recall 2/3, F1 = 2 * 1 * 2/3 / (1 + 2/3) = 0.8.
  const auto s = score("plan_json", plan_sample("json", kPlanSteps), plan_reply({kStepA, kStepC}));
  EXPECT_DOUBLE_EQ(metric(s, "precision"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "recall"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(metric(s, "f1_score"), 0.8);
}

TEST(TevalPlan, OrderIsTheLongestIncreasingSubsequenceOfMatchedSteps) {
  // C, A, B all match (reference positions 2, 0, 1); only A, B keep the order: 2 of 3 either way.
  const auto s = score("plan_json", plan_sample("json", kPlanSteps), plan_reply({kStepC, kStepA, kStepB}));
  EXPECT_DOUBLE_EQ(metric(s, "precision"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(metric(s, "recall"), 2.0 / 3.0);
  EXPECT_NEAR(metric(s, "f1_score"), 2.0 / 3.0, 1e-12);
  // An extra unmatched step costs precision only: A, X, B, C -> 3 in order, precision 3/4, recall 1.
  const char* extra = R"({"name": "Airbnb.get_details", "args": {"propertyId": 1}})";
  const auto e =
      score("plan_json", plan_sample("json", kPlanSteps), plan_reply({kStepA, extra, kStepB, kStepC}));
  EXPECT_DOUBLE_EQ(metric(e, "precision"), 0.75);
  EXPECT_DOUBLE_EQ(metric(e, "recall"), 1.0);
  EXPECT_NEAR(metric(e, "f1_score"), 2 * 0.75 / 1.75, 1e-12);
}

TEST(TevalPlan, StepsNeedTheRightNameAndSimilarArguments) {
  // Right name, unrelated arguments: 0.75 * 1 + 0.25 * 0 = 0.75, not above 0.8.
  const char* wrong_args = R"({"name": "Airbnb.search_by_place", "args": {"city": "Paris"}})";
  // Same tool, other method: names share one of two words, 0.75 * 0.5 + 0.25 = 0.625.
  const char* other_method = R"({"name": "Airbnb.get_details", "args": {"propertyId": 36339325}})";
  const auto s = score("plan_json", plan_sample("json", kPlanSteps), plan_reply({wrong_args, other_method}));
  // Nothing matches, yet T-Eval's LIS starts every step at length 1, so one step counts: 1/2 and 1/3.
  EXPECT_DOUBLE_EQ(metric(s, "precision"), 0.5);
  EXPECT_DOUBLE_EQ(metric(s, "recall"), 1.0 / 3.0);
  EXPECT_NEAR(metric(s, "f1_score"), 0.4, 1e-12);

  const auto m = match_plans(plan_steps_from_list(Json::parse(plan_reply({wrong_args, other_method}))),
                             plan_steps_from_list(Json::parse(kPlanSteps)));
  EXPECT_EQ(m.pred_to_reference, (std::vector<int>{-1, -1}));
}

TEST(TevalPlan, UnreadablePlansScoreZeroAndCountAgainstParseRate) {
  for (const char* reply : {"First search Berlin, then read the reviews.",
                            R"([{"id": 0, "name": "Airbnb.search_by_place"}])",  // a step without args
                            R"([{"id": "first", "name": "Airbnb.search_by_place", "args": {}}])", "[]"}) {
    const auto s = score("plan_json", plan_sample("json", kPlanSteps), reply);
    EXPECT_FALSE(s.parsed) << reply;
    EXPECT_DOUBLE_EQ(metric(s, "f1_score"), 0.0) << reply;
    EXPECT_DOUBLE_EQ(metric(s, "parse_rate"), 0.0) << reply;
  }
  // A fenced Python-literal list is read.
  const auto fenced =
      score("plan_json", plan_sample("json", kPlanSteps),
            "```json\n[{'id': 0, 'name': 'Airbnb.search_by_place', 'args': {'place': 'Berlin'}}]\n```");
  EXPECT_TRUE(fenced.parsed);
  EXPECT_DOUBLE_EQ(metric(fenced, "recall"), 1.0 / 3.0);
}

TEST(TevalPlan, StrPlansAreReadLineByLineByApiName) {
  const std::string reply =
      "1. Use Airbnb.search_by_place to find properties in Berlin\n"
      "2. Use Airbnb.get_reviews to read the reviews of property 36339325\n"
      "Then summarise.";
  const auto steps =
      plan_steps_from_text(reply, {"Airbnb.search_by_place", "Airbnb.get_reviews", "Arxiv.search"});
  ASSERT_EQ(steps.size(), 2u);  // "1" and "Then summarise." name no API
  EXPECT_EQ(steps[0].name, "Airbnb.search_by_place");
  EXPECT_EQ(steps[0].args, "Use Airbnb.search_by_place to find properties in Berlin");
  EXPECT_EQ(steps[1].id, 1);
  // Step 1 vs "{'place': 'Berlin'}": 8 words and 2 words share "berlin", 1/sqrt(16) = 0.25, so 0.75 + 0.0625.
  // Step 2 vs "{'propertyId': 36339325}": 10 words share "36339325", 1/sqrt(20) = 0.224, above 0.8 overall
  // too.
  const auto s = score("plan_str", plan_sample("str", kPlanSteps), reply);
  EXPECT_DOUBLE_EQ(metric(s, "precision"), 1.0);
  EXPECT_DOUBLE_EQ(metric(s, "recall"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(metric(s, "f1_score"), 0.8);
  const auto none = score("plan_str", plan_sample("str", kPlanSteps), "I cannot plan this.");
  EXPECT_FALSE(none.parsed);
  EXPECT_DOUBLE_EQ(metric(none, "parse_rate"), 0.0);
}

TEST(TevalPlan, AReferenceStepWithoutArgumentsMatchesByName) {
  const Json ref = Json::parse(R"([{"id": 0, "name": "Time.weekday", "args": {}},
                                   {"id": 1, "name": "Arxiv.search", "args": {"query": "solar"}}])");
  // The str line shares no word with "{}"; the name alone decides: 0.75 + 0.25.
  const auto steps = plan_steps_from_text("Use Time.weekday to get today\nUse Arxiv.search for solar papers",
                                          {"Time.weekday", "Arxiv.search"});
  const auto m = match_plans(steps, plan_steps_from_list(ref));
  EXPECT_EQ(m.pred_to_reference, (std::vector<int>{0, 1}));
  EXPECT_DOUBLE_EQ(m.f1_score, 1.0);
  // A JSON step with arguments the reference lacks still matches; one with another name does not.
  const Json pred = Json::parse(R"([{"id": 0, "name": "Time.weekday", "args": {"tz": "UTC"}},
                                    {"id": 1, "name": "Time.now", "args": {}}])");
  EXPECT_EQ(match_plans(plan_steps_from_list(pred), plan_steps_from_list(ref)).pred_to_reference,
            (std::vector<int>{0, -1}));
}

TEST(TevalPlan, TheEarliestApiInALineNamesTheStep) {
  const auto steps =
      plan_steps_from_text("Use Arxiv.search after Airbnb.get_reviews. Then Airbnb.get_reviews",
                           {"Airbnb.get_reviews", "Arxiv.search"});
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].name, "Arxiv.search");
  EXPECT_EQ(steps[1].name, "Airbnb.get_reviews");
  EXPECT_EQ(steps[1].args, "Then Airbnb.get_reviews");
}

TEST(TevalPlan, RepeatedIdenticalStepsAreMatchedInOrder) {
  const Json ref = Json::parse(R"([{"id": 0, "name": "Arxiv.search", "args": {"query": "solar"}},
                                   {"id": 1, "name": "Arxiv.search", "args": {"query": "solar"}},
                                   {"id": 2, "name": "Airbnb.get_reviews", "args": {"propertyId": 7}}])");
  const auto m = match_plans(plan_steps_from_list(ref), plan_steps_from_list(ref));
  EXPECT_EQ(m.pred_to_reference, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(m.in_order, 3u);
  EXPECT_DOUBLE_EQ(m.f1_score, 1.0);
}

TEST(TevalPlan, RealSampleRepliedWithItsOwnReferenceScoresOne) {
  const Dataset d = read_dataset(std::filesystem::path(AGENTRT_SOURCE_DIR) /
                                 "tests/eval/data/teval/plan_json_v1.sample.json");
  for (const auto& sample : d.samples) {
    const auto s = score_sample(sample, d.kind, sample.ground_truth.dump());
    EXPECT_DOUBLE_EQ(metric(s, "f1_score"), 1.0) << sample.id;
  }
}

// ---------------------------------------------------------------- summaries

TEST(TevalSummary, DimensionsFollowConvertResults) {
  const auto kind = [](const char* name) { return *kind_from_name(name); };
  std::vector<FileMetrics> files = {
      {kind("instruct_v2"), Json::parse(R"({"json_format_metric": 1.0, "json_args_em_metric": 0.5,
                                            "string_format_metric": 0.5, "string_args_em_metric": 0.5})")},
      {kind("plan_json_v2"),
       Json::parse(R"({"precision": 1, "recall": 1, "f1_score": 0.8, "parse_rate": 1})")},
      {kind("plan_str_v2"), Json::parse(R"({"f1_score": 0.6, "parse_rate": 1})")},
      {kind("reason_str_v2"), Json::parse(R"({"thought": 0.4, "parse_rate": 1})")},
      {kind("retrieve_str_v2"), Json::parse(R"({"name": 1.0, "parse_rate": 1})")},
      {kind("understand_str_v2"), Json::parse(R"({"args": 0.2, "parse_rate": 1})")},
      {kind("reason_retrieve_understand_json_v2"),
       Json::parse(R"({"thought": 0.6, "name": 0.5, "args": 0.4, "parse_rate": 0.9})")},
      {kind("review_str_v2"), Json::parse(R"({"review_quality": 0.7, "parse_rate": 1})")},
  };
  const Json d = dimension_scores(files);
  // instruct: mean((1 + 0.5) / 2, (0.5 + 0.5) / 2) = 0.625; plan 0.7; reason 0.5; retrieve 0.75;
  // understand 0.3; review 0.7; overall = 3.575 / 6.
  EXPECT_DOUBLE_EQ(d["instruct"].get<double>(), 0.625);
  EXPECT_DOUBLE_EQ(d["plan"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(d["reason"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(d["retrieve"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(d["understand"].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(d["review"].get<double>(), 0.7);
  EXPECT_NEAR(d["overall"].get<double>(), 3.575 / 6, 1e-12);
  EXPECT_TRUE(d["complete"].get<bool>());

  const Json partial = dimension_scores({files[1], files[7]});
  EXPECT_DOUBLE_EQ(partial["overall"].get<double>(), (0.8 + 0.7) / 2);
  EXPECT_FALSE(partial["complete"].get<bool>());
  EXPECT_EQ(partial["missing"], Json::parse(R"(["instruct", "reason", "retrieve", "understand"])"));
  EXPECT_TRUE(partial["instruct"].is_null());
}

TEST(TevalSummary, MetricsAreAveragedOverTheSamplesThatHaveThem) {
  std::vector<SampleScore> scores(3);
  scores[0].metrics =
      Json::parse(R"({"json_format_metric": 1, "json_args_em_metric": 0.5, "parse_rate": 1})");
  scores[1].metrics = Json::parse(R"({"json_format_metric": 0, "json_args_em_metric": 0, "parse_rate": 0})");
  scores[2].metrics =
      Json::parse(R"({"string_format_metric": 1, "string_args_em_metric": 1, "parse_rate": 1})");
  const Json m = summarize_metrics(scores);
  EXPECT_DOUBLE_EQ(m["json_format_metric"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["json_args_em_metric"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(m["string_args_em_metric"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["parse_rate"].get<double>(), 2.0 / 3.0);
}

}  // namespace
}  // namespace agentrt::eval::teval
