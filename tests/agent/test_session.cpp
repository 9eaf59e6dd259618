#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "agent/backends/backend_scripted.h"
#include "agent/session.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

class AddTool : public Tool {
 public:
  std::string name() const override { return "add"; }
  std::string description() const override { return "Adds two integers"; }
  Json parameters() const override {
    return Json::parse(
        R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                           "required": ["a", "b"]})");
  }
  ToolResult run(const Json& args, const ToolContext&) override {
    ++calls;
    return ToolResult::success(std::to_string(args["a"].get<long long>() + args["b"].get<long long>()));
  }
  int calls = 0;
};

class SlowTool : public Tool {
 public:
  std::string name() const override { return "slow"; }
  std::string description() const override { return "Sleeps, ignoring its deadline"; }
  Json parameters() const override { return Json::parse(R"({"type": "object", "properties": {}})"); }
  std::chrono::milliseconds default_timeout() const override { return std::chrono::milliseconds(100); }
  ToolResult run(const Json&, const ToolContext&) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return ToolResult::success("late");
  }
};

class ThrowingTool : public Tool {
 public:
  std::string name() const override { return "boom"; }
  std::string description() const override { return "Always throws"; }
  Json parameters() const override { return Json::parse(R"({"type": "object", "properties": {}})"); }
  ToolResult run(const Json&, const ToolContext&) override { throw std::runtime_error("disk on fire"); }
};

std::string call(const std::string& name, const std::string& params) {
  return "<|action_start|><|plugin|>\n{\"name\": \"" + name + "\", \"parameters\": " + params +
         "}<|action_end|>";
}

struct Fixture {
  explicit Fixture(std::vector<std::string> replies, SessionOptions opts = {})
      : backend(std::move(replies), ScriptedBackendOptions{4, false}) {
    add = std::make_shared<AddTool>();
    registry.add(add);
    registry.add(std::make_shared<SlowTool>());
    registry.add(std::make_shared<ThrowingTool>());
    opts.system_prompt = "sys";
    session = std::make_unique<Session>(backend, registry, opts, &trace);
  }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& e : trace.events()) out.push_back(e["kind"]);
    return out;
  }
  ScriptedBackend backend;
  ToolRegistry registry;
  std::shared_ptr<AddTool> add;
  MemoryTraceSink trace;
  std::unique_ptr<Session> session;
};

using Kinds = std::vector<std::string>;

}  // namespace

TEST(Session, ValidCallThenAnswer) {
  Fixture f({"I will add them." + call("add", R"({"a": 2, "b": 3})"), "The sum is 5."});
  std::string streamed;
  RunObserver obs;
  obs.on_text = [&](std::string_view t) { streamed += t; };
  auto r = f.session->run("What is 2+3?", obs);
  EXPECT_EQ(r.answer, "The sum is 5.");
  EXPECT_EQ(r.turns, 2);
  EXPECT_EQ(r.tool_calls, 1);
  EXPECT_FALSE(r.forced_answer);
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(f.add->calls, 1);
  EXPECT_EQ(streamed, "I will add them.The sum is 5.");
  EXPECT_EQ(f.kinds(), (Kinds{"thought", "select", "arguments", "observation", "answer"}));

  auto prompts = f.backend.prompts();
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0].rfind("<|im_start|>system\nsys<|im_end|>\n<|im_start|>system name=<|plugin|>\n", 0),
            0u);
  EXPECT_NE(prompts[0].find("\"name\": \"add\""), std::string::npos);
  EXPECT_TRUE(prompts[0].ends_with("<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n"));
  EXPECT_TRUE(
      prompts[1].ends_with("<|im_start|>assistant\nI will add them.<|action_start|><|plugin|>\n{\"name\": "
                           "\"add\", \"parameters\": "
                           "{\"a\": 2, \"b\": 3}}<|action_end|>\n<|im_end|>\n<|im_start|>environment "
                           "name=<|plugin|>\n5<|im_end|>\n"
                           "<|im_start|>assistant\n"));
  // The turn is generated with the protocol's end-of-turn stop strings.
  auto params = f.backend.params();
  ASSERT_FALSE(params.empty());
  EXPECT_NE(std::find(params[0].stop.begin(), params[0].stop.end(), "<|im_end|>"), params[0].stop.end());
}

TEST(Session, InvalidJsonIsFedBackAndTheModelRecovers) {
  Fixture f(
      {"Adding."
       "<|action_start|><|plugin|>\n{\"name\": \"add\", \"parameters\": {a: 1}}<|action_end|>",
       "Oops, fixing the JSON." + call("add", R"({"a": 1, "b": 1})"), "It is 2."});
  auto r = f.session->run("1+1?");
  EXPECT_EQ(r.answer, "It is 2.");
  EXPECT_EQ(f.add->calls, 1);
  auto prompts = f.backend.prompts();
  ASSERT_EQ(prompts.size(), 3u);
  EXPECT_NE(prompts[1].find("<|im_start|>environment name=<|plugin|>\ninvalid json format"),
            std::string::npos);
  EXPECT_EQ(f.kinds(), (Kinds{"thought", "select", "arguments", "observation", "reflection", "select",
                              "arguments", "observation", "answer"}));
  auto args = f.trace.events_of_kind("arguments");
  EXPECT_FALSE(args[0]["valid"].get<bool>());
  EXPECT_EQ(args[0]["error"].get<std::string>().rfind("invalid json format", 0), 0u);
  auto obs = f.trace.events_of_kind("observation");
  EXPECT_FALSE(obs[0]["ok"].get<bool>());
  EXPECT_TRUE(obs[1]["ok"].get<bool>());
  EXPECT_EQ(f.trace.events_of_kind("reflection")[0]["text"], "Oops, fixing the JSON.");
}

TEST(Session, UnknownToolIsReportedWithTheAvailableNames) {
  Fixture f({call("multiply", R"({"a": 2})"), "Sorry."});
  auto r = f.session->run("2*2?");
  EXPECT_EQ(r.answer, "Sorry.");
  auto obs = f.trace.events_of_kind("observation");
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(
      obs[0]["text"],
      "The action is invalid, please check the action name. There is no tool named 'multiply'; the available "
      "tools are: add, slow, boom.");
  EXPECT_EQ(f.trace.events_of_kind("select")[0]["tool"], "multiply");
}

TEST(Session, MissingArgumentIsReported) {
  Fixture f({call("add", R"({"a": 2})"), "Need b."});
  f.session->run("2+?");
  auto obs = f.trace.events_of_kind("observation");
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0]["text"],
            "missing required arguments: b. Tool 'add' takes: a (integer, required), b (integer, required).");
  EXPECT_EQ(f.add->calls, 0);
}

TEST(Session, UnknownAndMistypedArgumentsAreReported) {
  Fixture f({call("add", R"({"a": "two", "b": 1, "c": 3})"), "Hmm."});
  f.session->run("?");
  auto text = f.trace.events_of_kind("observation")[0]["text"].get<std::string>();
  EXPECT_NE(text.find("unknown arguments: c."), std::string::npos) << text;
  EXPECT_NE(text.find("invalid arguments: 'a' must be integer, got string \"two\"."), std::string::npos)
      << text;
}

TEST(Session, TwoCallsInOneReplyRunInOrder) {
  Fixture f(
      {"Both." + call("add", R"({"a": 1, "b": 2})") + call("add", R"({"a": 10, "b": 20})"), "3 and 30."});
  auto r = f.session->run("sums");
  EXPECT_EQ(r.tool_calls, 2);
  EXPECT_EQ(f.add->calls, 2);
  const auto& h = f.session->history();
  // system, user, assistant(2 calls), env, env, assistant
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[2].actions.size(), 2u);
  EXPECT_EQ(h[3].content, "3");
  EXPECT_EQ(h[3].tool_call_id, h[2].actions[0].id);
  EXPECT_EQ(h[4].content, "30");
  EXPECT_EQ(h[4].tool_call_id, h[2].actions[1].id);
}

TEST(Session, MaxTurnsForcesAFinalAnswer) {
  SessionOptions opts;
  opts.max_turns = 2;
  Fixture f({call("add", R"({"a": 1, "b": 1})"), call("add", R"({"a": 2, "b": 2})"),
             "Still thinking." + call("add", R"({"a": 3, "b": 3})")},
            opts);
  auto r = f.session->run("loop");
  EXPECT_TRUE(r.forced_answer);
  EXPECT_EQ(r.turns, 3);
  EXPECT_EQ(f.add->calls, 2);  // the call in the forced turn is not run
  EXPECT_EQ(r.answer, "Still thinking.");
  auto prompts = f.backend.prompts();
  ASSERT_EQ(prompts.size(), 3u);
  EXPECT_NE(prompts[2].find("You have used all the tool calls available"), std::string::npos);
  auto answer = f.trace.events_of_kind("answer");
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_TRUE(answer[0]["forced"].get<bool>());
  EXPECT_EQ(answer[0]["turn"], 3);
}

TEST(Session, TraceFileHasOneEventPerLineAsItHappens) {
  const auto path = std::filesystem::temp_directory_path() / ("agentrt-trace-" + new_run_id() + ".jsonl");
  {
    ScriptedBackend backend({call("add", R"({"a": 4, "b": 5})"), "9"});
    ToolRegistry registry;
    registry.add(std::make_shared<AddTool>());
    JsonlTraceSink sink(path);
    SessionOptions opts;
    Session session(backend, registry, opts, &sink);
    auto r = session.run("4+5");
    EXPECT_EQ(r.answer, "9");
  }
  std::ifstream in(path);
  std::string line;
  std::vector<Json> events;
  while (std::getline(in, line)) events.push_back(Json::parse(line));
  std::filesystem::remove(path);
  ASSERT_EQ(events.size(), 5u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["run_id"], events[0]["run_id"]);
    EXPECT_EQ(events[i]["step"], static_cast<int>(i));
    EXPECT_TRUE(events[i].contains("t_ms"));
    EXPECT_TRUE(events[i].contains("turn"));
  }
  EXPECT_EQ(events[1]["kind"], "select");
  EXPECT_EQ(events[1]["tool"], "add");
  EXPECT_EQ(events[2]["arguments"], Json::parse(R"({"a": 4, "b": 5})"));
  EXPECT_EQ(events[3]["text"], "9");
  EXPECT_TRUE(events[3]["ok"].get<bool>());
  EXPECT_TRUE(events[3].contains("latency_ms"));
  EXPECT_EQ(events[4]["kind"], "answer");
  EXPECT_EQ(events[4]["turn"], 2);
}

TEST(Session, PerToolDeadline) {
  Fixture f({call("slow", "{}"), "Gave up."});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = f.session->run("slow?");
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 1200);
  EXPECT_EQ(r.answer, "Gave up.");
  EXPECT_EQ(f.trace.events_of_kind("observation")[0]["text"],
            "tool 'slow' timed out after 100 ms and was abandoned; try a simpler request.");
}

TEST(Session, ToolExceptionBecomesAnError) {
  Fixture f({call("boom", "{}"), "It failed."});
  f.session->run("x");
  auto obs = f.trace.events_of_kind("observation");
  EXPECT_EQ(obs[0]["text"], "tool 'boom' failed: disk on fire");
  EXPECT_FALSE(obs[0]["ok"].get<bool>());
}

TEST(Session, CancellationStopsBeforeTheNextTool) {
  Fixture f({call("add", R"({"a": 1, "b": 1})") + call("add", R"({"a": 2, "b": 2})"), "never"});
  RunObserver obs;
  obs.on_result = [&](const Action&, const ToolResult&) { f.session->cancel(); };
  auto r = f.session->run("x", obs);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(f.add->calls, 1);
  EXPECT_EQ(f.backend.prompts().size(), 1u);
  EXPECT_EQ(f.kinds().back(), "error");
}

TEST(Session, CancellationDuringGeneration) {
  Fixture f({"a long answer that gets cut off before it ends"});
  RunObserver obs;
  obs.on_text = [&](std::string_view) { f.session->cancel(); };
  auto r = f.session->run("x", obs);
  EXPECT_TRUE(r.cancelled);
  EXPECT_TRUE(r.answer.empty());
}

TEST(Session, PlanFirstRecordsTheParsedPlan) {
  SessionOptions opts;
  opts.plan_first = true;
  Fixture f({"[{\"id\": 1, \"name\": \"add\", \"args\": {\"a\": 1, \"b\": 2}}, {\"id\": 2, \"name\": "
             "\"FinishAction\", "
             "\"args\": {\"response\": \"3\"}}]",
             call("add", R"({"a": 1, "b": 2})"), "3"},
            opts);
  Json seen;
  RunObserver obs;
  obs.on_plan = [&](const Json& p) { seen = p; };
  auto r = f.session->run("1+2", obs);
  EXPECT_EQ(r.answer, "3");
  ASSERT_TRUE(r.plan.is_array());
  EXPECT_EQ(r.plan.size(), 2u);
  EXPECT_EQ(r.plan[0]["name"], "add");
  EXPECT_EQ(seen, r.plan);
  auto plan = f.trace.events_of_kind("plan");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0]["steps"], r.plan);
  EXPECT_NE(f.backend.prompts()[0].find("write a plan as a JSON list"), std::string::npos);
}

TEST(Session, PlanThatIsNotJsonIsRecordedAsSuch) {
  SessionOptions opts;
  opts.plan_first = true;
  Fixture f({"First add, then answer.", "3"}, opts);
  auto r = f.session->run("1+2");
  EXPECT_TRUE(r.plan.is_null());
  EXPECT_EQ(f.trace.events_of_kind("plan")[0]["error"], "the plan is not a JSON list of steps");
  EXPECT_EQ(r.answer, "3");
}

TEST(Session, BackendFailureIsReportedNotThrown) {
  Fixture f({call("add", R"({"a": 1, "b": 1})")});  // the script runs out on the second turn
  auto r = f.session->run("x");
  EXPECT_NE(r.error.find("no reply left"), std::string::npos) << r.error;
  EXPECT_EQ(f.kinds().back(), "error");
  EXPECT_EQ(f.add->calls, 1);
}

TEST(Session, HistoryCarriesOverBetweenRuns) {
  Fixture f({"Hello!", "You said hi."});
  f.session->run("hi");
  f.session->run("what did I say?");
  auto prompts = f.backend.prompts();
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_NE(prompts[1].find("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                            "<|im_start|>user\nwhat did I say?"),
            std::string::npos);
}

TEST(Session, ChinesePromptsSelectable) {
  SessionOptions opts;
  opts.language = "zh";
  Fixture f({"好的。"}, opts);
  f.session->run("你好");
  EXPECT_NE(f.backend.prompts()[0].find("你可以使用如下工具"), std::string::npos);
  opts.language = "fr";
  ScriptedBackend b({});
  ToolRegistry reg;
  EXPECT_THROW(Session(b, reg, opts), std::invalid_argument);
}

TEST(ExtractPlan, FindsTheFirstJsonList) {
  EXPECT_EQ(extract_plan("Plan:\n```json\n[{\"id\": 1, \"name\": \"a\", \"args\": {\"x\": \"]\"}}]\n```"),
            Json::parse(R"([{"id": 1, "name": "a", "args": {"x": "]"}}])"));
  EXPECT_TRUE(extract_plan("no list here").is_null());
  EXPECT_TRUE(extract_plan("[broken").is_null());
}

TEST(Session, ConstrainToolsPassesTheToolSchemasToTheBackend) {
  SessionOptions opts;
  opts.constrain_tools = true;
  Fixture f({"fine"}, opts);
  f.session->run("x");
  auto params = f.backend.params();
  ASSERT_EQ(params.size(), 1u);
  ASSERT_TRUE(params[0].constrain_tools.is_array());
  EXPECT_EQ(params[0].constrain_tools.size(), 3u);
  EXPECT_EQ(params[0].constrain_tools[0]["name"], "add");
  Fixture plain({"fine"});
  plain.session->run("x");
  EXPECT_TRUE(plain.backend.params()[0].constrain_tools.is_null());
}
