#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
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
  std::atomic<int> calls{0};  // the calls of one turn run concurrently
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
  // One at a time: the second call has not started when the first one's result cancels the run.
  SessionOptions one_at_a_time;
  one_at_a_time.max_parallel_tools = 1;
  Fixture f({call("add", R"({"a": 1, "b": 1})") + call("add", R"({"a": 2, "b": 2})"), "never"},
            one_at_a_time);
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

namespace {

// Calls that meet: each waits until `party` calls of its group have arrived (or `patience` has passed, then
// it says it was alone), and records how many ran at once. No clock decides whether calls overlapped: they
// either met or could not have.
struct Meeting {
  explicit Meeting(int party, std::chrono::milliseconds patience) : party(party), patience(patience) {}
  const int party;
  const std::chrono::milliseconds patience;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0, inside = 0, most_inside = 0;
  std::vector<std::string> order;              // the labels of the calls, as they started
  std::function<void(int arrived)> on_arrive;  // called as each call arrives

  bool attend(const std::string& label) {
    std::unique_lock lock(mutex);
    order.push_back(label);
    ++arrived;
    if (on_arrive) on_arrive(arrived);
    most_inside = std::max(most_inside, ++inside);
    cv.notify_all();
    const bool met = cv.wait_for(lock, patience, [&] { return arrived >= party; });
    --inside;
    return met;
  }
};

class MeetingTool : public Tool {
 public:
  MeetingTool(std::string name, Meeting& meeting, bool may_overlap = true)
      : name_(std::move(name)), meeting_(meeting), may_overlap_(may_overlap) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "Waits for the other calls of its meeting"; }
  Json parameters() const override {
    return Json::parse(
        R"({"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]})");
  }
  bool may_overlap() const override { return may_overlap_; }
  ToolResult run(const Json& args, const ToolContext&) override {
    const std::string label = args["label"];
    return ToolResult::success(label + (meeting_.attend(label) ? " met" : " alone"));
  }

 private:
  std::string name_;
  Meeting& meeting_;
  bool may_overlap_;
};

std::string meet(const std::string& tool, const std::string& label) {
  return call(tool, "{\"label\": \"" + label + "\"}");
}

struct MeetingFixture {
  MeetingFixture(std::vector<std::string> replies, Meeting& meeting, int max_parallel,
                 bool may_overlap = true)
      : backend(std::move(replies), ScriptedBackendOptions{4, false}) {
    registry.add(std::make_shared<MeetingTool>("meet", meeting, may_overlap));
    SessionOptions o;
    o.system_prompt = "sys";
    o.max_parallel_tools = max_parallel;
    session = std::make_unique<Session>(backend, registry, o, &trace);
  }
  std::vector<std::string> environment() const {
    std::vector<std::string> out;
    for (const auto& m : session->history()) {
      if (m.role == Role::Environment) out.push_back(m.content);
    }
    return out;
  }
  ScriptedBackend backend;
  ToolRegistry registry;
  MemoryTraceSink trace;
  std::unique_ptr<Session> session;
};

}  // namespace

// Two slow calls (each waits for the other) finish in the time of one: both ran at once, and the trace says
// so (their start and end times overlap).
TEST(ParallelTools, TwoSlowCallsOfOneTurnRunAtOnce) {
  Meeting meeting(2, std::chrono::seconds(60));
  MeetingFixture f({"Both." + meet("meet", "a") + meet("meet", "b"), "Done."}, meeting, 4);
  const auto r = f.session->run("x");
  EXPECT_EQ(r.answer, "Done.");
  EXPECT_EQ(f.environment(), (std::vector<std::string>{"a met", "b met"}));
  EXPECT_EQ(meeting.most_inside, 2);
  const auto obs = f.trace.events_of_kind("observation");
  ASSERT_EQ(obs.size(), 2u);
  for (const auto& o : obs) EXPECT_LE(o["t_start_ms"].get<long long>(), o["t_end_ms"].get<long long>());
  EXPECT_LE(obs[0]["t_start_ms"].get<long long>(), obs[1]["t_end_ms"].get<long long>());
  EXPECT_LE(obs[1]["t_start_ms"].get<long long>(), obs[0]["t_end_ms"].get<long long>());
  // Announced in order before they ran, answered in order.
  std::vector<std::string> kinds;
  for (const auto& e : f.trace.events()) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"thought", "select", "arguments", "select", "arguments",
                                             "observation", "observation", "answer"}));
}

TEST(ParallelTools, OneAtATimeTheyCannotMeet) {
  Meeting meeting(2, std::chrono::milliseconds(50));  // alone is all it can be: the wait only bounds the test
  MeetingFixture f({meet("meet", "a") + meet("meet", "b"), "Done."}, meeting, 1);
  f.session->run("x");
  EXPECT_EQ(f.environment(), (std::vector<std::string>{"a alone", "b met"}));
  EXPECT_EQ(meeting.most_inside, 1);
}

TEST(ParallelTools, AtMostTheCapRunAtOnce) {
  Meeting meeting(3, std::chrono::seconds(60));  // the first three wait for each other; later calls find them
  std::string reply = "Six.";
  for (const char* label : {"1", "2", "3", "4", "5", "6"}) reply += meet("meet", label);
  MeetingFixture f({reply, "Done."}, meeting, 3);
  const auto r = f.session->run("x");
  EXPECT_EQ(r.tool_calls, 6);
  EXPECT_EQ(meeting.most_inside, 3);
  EXPECT_EQ(f.environment(), (std::vector<std::string>{"1 met", "2 met", "3 met", "4 met", "5 met",
                                                       "6 met"}));  // calls' order
}

TEST(ParallelTools, ResultsComeInTheCallsOrderWhateverFinishesFirst) {
  // "slow" cannot end before "quick" has started; with both running, either may end first.
  Meeting meeting(2, std::chrono::seconds(60));
  MeetingFixture f({meet("meet", "slow") + call("meet", R"({"label": "quick"})"), "Done."}, meeting, 4);
  f.session->run("x");
  const auto env = f.environment();
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0], "slow met");
  EXPECT_EQ(env[1], "quick met");
  const auto& h = f.session->history();
  EXPECT_EQ(h[3].tool_call_id, h[2].actions[0].id);
  EXPECT_EQ(h[4].tool_call_id, h[2].actions[1].id);
}

TEST(ParallelTools, AToolThatMayNotOverlapRunsItsCallsOneAtATimeInOrder) {
  Meeting serial(2, std::chrono::milliseconds(50));  // its calls can never meet each other
  Meeting other(2, std::chrono::seconds(60));
  auto backend_replies = std::vector<std::string>{
      meet("cell", "c1") + meet("meet", "m1") + meet("cell", "c2") + meet("meet", "m2") + meet("cell", "c3"),
      "Done."};
  ScriptedBackend backend(backend_replies, ScriptedBackendOptions{4, false});
  ToolRegistry registry;
  registry.add(std::make_shared<MeetingTool>("cell", serial, /*may_overlap=*/false));
  registry.add(std::make_shared<MeetingTool>("meet", other));
  SessionOptions o;
  o.system_prompt = "sys";
  MemoryTraceSink trace;
  Session session(backend, registry, o, &trace);
  session.run("x");
  EXPECT_EQ(serial.most_inside, 1);
  EXPECT_EQ(serial.order, (std::vector<std::string>{"c1", "c2", "c3"}));
  // ...while the other tool's calls still ran beside them.
  EXPECT_EQ(other.most_inside, 2);
}

TEST(ParallelTools, CancelledCallsThatHaveNotStartedDoNotStart) {
  Meeting meeting(2, std::chrono::seconds(60));
  MeetingFixture f({meet("meet", "a") + meet("meet", "b") + meet("meet", "c"), "never"}, meeting, 2);
  // The run is cancelled once a and b both run (the cap): c, which could only start after one of them, never
  // does.
  meeting.on_arrive = [&](int arrived) {
    if (arrived == 2) f.session->cancel();
  };
  const auto r = f.session->run("x");
  EXPECT_TRUE(r.cancelled);
  std::vector<std::string> started = meeting.order;
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started, (std::vector<std::string>{"a", "b"}));
}
