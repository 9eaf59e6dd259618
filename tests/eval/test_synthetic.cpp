// The synthetic held-out tasks' scoring (eval/synthetic.h): the task reader, the value match, the call check
// and a whole run on scripted replies with a real session and registry.
#include <gtest/gtest.h>

#include "agent/backends/backend_scripted.h"
#include "eval/synthetic.h"

using namespace agentrt;
using namespace agentrt::eval;

namespace {

class MultiplyTool : public agent::Tool {
 public:
  std::string name() const override { return "multiply"; }
  std::string description() const override { return "Multiplies two integers"; }
  Json parameters() const override {
    return Json::parse(
        R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                           "required": ["a", "b"]})");
  }
  agent::ToolResult run(const Json& args, const agent::ToolContext&) override {
    return agent::ToolResult::success(
        std::to_string(args["a"].get<long long>() * args["b"].get<long long>()));
  }
};

std::string call(const std::string& params) {
  return "<|action_start|><|plugin|>\n{\"name\": \"multiply\", \"parameters\": " + params + "}<|action_end|>";
}

}  // namespace

TEST(SyntheticTasks, ReadsOneTaskALineAndNamesTheLineOfABadOne) {
  const auto tasks = parse_synthetic_tasks(
      "{\"id\": \"t1\", \"family\": \"mul\", \"task\": \"6 times 7?\", \"answer\": \"42\"}\n\n"
      "{\"id\": \"t2\", \"task\": \"2 times 3?\", \"answer\": \"6\"}\n",
      "tasks.jsonl");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].family, "mul");
  EXPECT_EQ(tasks[1].family, "other");
  EXPECT_EQ(tasks[1].answer, "6");

  try {
    parse_synthetic_tasks(
        "{\"id\": \"t1\", \"task\": \"x\", \"answer\": \"1\"}\n{\"id\": \"t2\", \"task\": \"y\"}\n",
        "tasks.jsonl");
    FAIL() << "a task without an answer was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "'tasks.jsonl' line 2: 'answer' must be a non-empty string");
  }
  EXPECT_THROW(parse_synthetic_tasks("[1, 2]\n", "f"), std::runtime_error);
  EXPECT_THROW(
      parse_synthetic_tasks("{\"id\": \"a\", \"task\": \"b\", \"answer\": \"c\", \"family\": 3}", "f"),
      std::runtime_error);
  EXPECT_THROW(parse_synthetic_tasks("\n  \n", "f"), std::runtime_error);
}

TEST(SyntheticTasks, AnAnswerMatchesOnlyAsAWholeValue) {
  EXPECT_TRUE(contains_value("The total is 42.", "42"));
  EXPECT_TRUE(contains_value("42", "42"));
  EXPECT_TRUE(contains_value("(42)", "42"));
  EXPECT_FALSE(contains_value("The total is 420.", "42"));
  EXPECT_FALSE(contains_value("It costs 142 dollars", "42"));
  EXPECT_FALSE(contains_value("It is 42.5", "42"));
  EXPECT_FALSE(contains_value("It is -42", "42"));
  EXPECT_FALSE(contains_value("version 1.42", "42"));
  EXPECT_FALSE(contains_value("", "42"));
}

TEST(SyntheticTasks, ACallIsValidOnlyWhenItParsesNamesAToolAndFitsItsSchema) {
  agent::ToolRegistry registry;
  registry.add(std::make_shared<MultiplyTool>());
  agent::Action ok;
  ok.name = "multiply";
  ok.arguments = Json{{"a", 2}, {"b", 3}};
  EXPECT_EQ(call_problem(ok, registry), "");

  agent::Action unknown = ok;
  unknown.name = "divide";
  EXPECT_EQ(call_problem(unknown, registry), "unknown tool 'divide'");

  agent::Action bad_args = ok;
  bad_args.arguments = Json{{"a", "two"}};
  EXPECT_EQ(call_problem(bad_args, registry), "arguments do not match the schema (2 problem(s))");

  agent::Action unparsed = ok;
  unparsed.valid = false;
  unparsed.error = "invalid json format";
  EXPECT_EQ(call_problem(unparsed, registry), "invalid json format");
}

TEST(SyntheticTasks, ARunScoresSuccessAndCallValidityPerFamily) {
  const std::vector<SyntheticTask> tasks = {
      {"t1", "mul", "What is 6 times 7?", "42"},
      {"t2", "mul", "What is 2 times 3?", "6"},
      {"t3", "other", "What is 5 times 5?", "25"},
  };
  // t1: one valid call, then the right answer. t2: a call with a wrong type (the registry refuses it), then a
  // wrong answer. t3: answers at once, right.
  agent::ScriptedBackend backend({
      "Let me compute." + call(R"({"a": 6, "b": 7})"),
      "6 times 7 is 42.",
      "Computing." + call(R"({"a": "two", "b": 3})"),
      "It is 5.",
      "5 times 5 is 25.",
  });
  agent::ToolRegistry registry;
  registry.add(std::make_shared<MultiplyTool>());
  SyntheticOptions options;
  options.max_turns = 3;
  std::vector<std::string> seen;
  size_t prompts_seen = 0;
  const Json report = run_synthetic(tasks, backend, registry, options,
                                    [&](size_t i, size_t total, const SyntheticTask& t, const Json& result,
                                        const std::vector<std::string>& prompts) {
                                      EXPECT_EQ(total, 3u);
                                      EXPECT_EQ(t.id, tasks[i].id);
                                      EXPECT_EQ(result["id"], t.id);
                                      prompts_seen += prompts.size();
                                      seen.push_back(t.id);
                                    });
  EXPECT_EQ(seen, (std::vector<std::string>{"t1", "t2", "t3"}));
  EXPECT_EQ(prompts_seen, 5u);  // one prompt per model turn
  const Json& summary = report["summary"];
  EXPECT_EQ(summary["backend"], "scripted");
  EXPECT_EQ(summary["tasks"], 3);
  EXPECT_DOUBLE_EQ(summary["task_success"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(summary["tool_calls"], 2);
  EXPECT_DOUBLE_EQ(summary["tool_call_validity"].get<double>(), 0.5);
  EXPECT_EQ(summary["families"]["mul"]["tasks"], 2);
  EXPECT_EQ(summary["families"]["mul"]["success"], 1);
  EXPECT_EQ(summary["families"]["mul"]["valid_calls"], 1);
  EXPECT_DOUBLE_EQ(summary["families"]["other"]["success_rate"].get<double>(), 1.0);

  const Json& results = report["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["calls"][0]["result"], "42");
  EXPECT_EQ(results[0]["answer"], "6 times 7 is 42.");
  EXPECT_TRUE(results[0]["success"].get<bool>());
  EXPECT_FALSE(results[1]["calls"][0]["valid"].get<bool>());
  EXPECT_FALSE(results[1]["calls"][0]["ok"].get<bool>());
  EXPECT_FALSE(results[1]["success"].get<bool>());
  EXPECT_EQ(results[2]["turns"], 1);
}

TEST(SyntheticTasks, ALimitRunsOnlyTheFirstTasks) {
  const std::vector<SyntheticTask> tasks = {{"a", "f", "x", "1"}, {"b", "f", "y", "2"}};
  agent::ScriptedBackend backend({"1"});
  agent::ToolRegistry registry;
  SyntheticOptions options;
  options.limit = 1;
  const Json report = run_synthetic(tasks, backend, registry, options);
  EXPECT_EQ(report["summary"]["tasks"], 1);
  EXPECT_EQ(report["results"].size(), 1u);
  EXPECT_EQ(backend.replies_left(), 0u);
}
