// /v1/agent/runs and the stored sessions: a run's trace streamed as SSE, messages and traces listed
// afterwards, a server restart that keeps them, follow-up runs that continue the stored conversation,
// workspace uploads.
#include <gtest/gtest.h>

#include <fstream>

#include "server_harness.h"

namespace agentrt::testing {
namespace {

const std::string kCallReply =
    "I will use the calculator.<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": "
    "{\"expression\": \"6*7\"}}<|action_end|>";

std::vector<Json> stream_events(const std::string& body) {
  std::vector<Json> events;
  for (const auto& p : sse_payloads(body)) {
    if (p != "[DONE]") events.push_back(Json::parse(p));
  }
  return events;
}

std::vector<std::string> trace_kinds(const std::vector<Json>& events) {
  std::vector<std::string> kinds;
  for (const auto& e : events) {
    if (e.value("type", "") == "trace") kinds.push_back(e["event"]["kind"]);
  }
  return kinds;
}

TEST(AgentRuns, StreamsTraceEventsWhileTheRunHappens) {
  ScriptedServer s({kCallReply, "6*7 is 42."});
  auto c = s.client();
  int status = 0;
  const std::string body = post_stream(c, "/v1/agent/runs", Json{{"task", "What is 6*7?"}}, &status);
  ASSERT_EQ(status, 200) << body;
  EXPECT_TRUE(body.ends_with("data: [DONE]\n\n"));
  const auto events = stream_events(body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front()["type"], "session");
  const std::string session_id = events.front()["session_id"];
  EXPECT_EQ(trace_kinds(events),
            (std::vector<std::string>{"thought", "select", "arguments", "observation", "answer"}));
  std::string text;
  for (const auto& e : events) {
    if (e["type"] == "text") text += e["text"].get<std::string>();
    if (e["type"] == "trace" && e["event"]["kind"] == "observation") {
      EXPECT_EQ(e["event"]["text"], "42");
      EXPECT_EQ(e["event"]["ok"], true);
      EXPECT_EQ(e["event"]["tool"], "calculator");
    }
  }
  EXPECT_EQ(text, "I will use the calculator.6*7 is 42.");
  const Json& done = events.back();
  EXPECT_EQ(done["type"], "done");
  EXPECT_EQ(done["answer"], "6*7 is 42.");
  EXPECT_EQ(done["tool_calls"], 1);
  EXPECT_EQ(done["turns"], 2);
  EXPECT_EQ(done["session_id"], session_id);

  // Stored: the conversation, the trace and the run.
  const Json messages = get_json(c, "/v1/sessions/" + session_id + "/messages", &status);
  ASSERT_EQ(status, 200);
  std::vector<std::string> roles;
  for (const auto& m : messages["data"]) roles.push_back(m["role"]);
  EXPECT_EQ(roles, (std::vector<std::string>{"system", "user", "assistant", "environment", "assistant"}));
  EXPECT_EQ(messages["data"][2]["actions"][0]["name"], "calculator");
  const Json trace = get_json(c, "/v1/sessions/" + session_id + "/trace");
  ASSERT_EQ(trace["data"].size(), 5u);
  EXPECT_EQ(trace["data"][4]["kind"], "answer");
  const Json session = get_json(c, "/v1/sessions/" + session_id);
  ASSERT_EQ(session["runs"].size(), 1u);
  EXPECT_EQ(session["runs"][0]["outcome"], "answered");
  EXPECT_EQ(session["runs"][0]["answer"], "6*7 is 42.");
  EXPECT_EQ(session["runs"][0]["run_id"], done["run_id"]);
}

TEST(AgentRuns, NonStreamingRunReturnsResultAndTrace) {
  ScriptedServer s({"Just an answer."});
  auto c = s.client();
  int status = 0;
  const Json r = post_json(c, "/v1/agent/runs", Json{{"task", "Say something"}, {"stream", false}}, &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["answer"], "Just an answer.");
  EXPECT_TRUE(r["error"].is_null());
  ASSERT_EQ(r["trace"].size(), 1u);
  EXPECT_EQ(r["trace"][0]["kind"], "answer");
}

TEST(AgentRuns, UnknownSessionIs404) {
  ScriptedServer s({"x"});
  auto c = s.client();
  int status = 0;
  const Json r = post_json(c, "/v1/agent/runs", Json{{"task", "t"}, {"session_id", "sess_missing"}}, &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(r["error"]["type"], "invalid_request_error");
  get_json(c, "/v1/sessions/sess_missing/messages", &status);
  EXPECT_EQ(status, 404);
}

TEST(AgentRuns, BackendErrorIsReportedInTheRun) {
  ScriptedServer s({});
  auto c = s.client();
  const auto events = stream_events(post_stream(c, "/v1/agent/runs", Json{{"task", "t"}}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(trace_kinds(events), std::vector<std::string>{"error"});
  EXPECT_NE(events.back()["error"].get<std::string>().find("no reply left"), std::string::npos)
      << events.back().dump();
}

TEST(Sessions, RestartKeepsSessionsMessagesAndTraces) {
  const auto data = fresh_dir("restart");
  std::string session_id;
  Json messages_before, trace_before;
  {
    ScriptedServer s({kCallReply, "It is 42."}, {}, data);
    auto c = s.client();
    const auto events = stream_events(post_stream(c, "/v1/agent/runs", Json{{"task", "What is 6*7?"}}));
    session_id = events.front()["session_id"];
    messages_before = get_json(c, "/v1/sessions/" + session_id + "/messages");
    trace_before = get_json(c, "/v1/sessions/" + session_id + "/trace");
    s.server->stop();
  }
  ScriptedServer s({"You asked about 6*7; it is 42."}, {}, data);
  auto c = s.client();
  const Json sessions = get_json(c, "/v1/sessions");
  ASSERT_EQ(sessions["data"].size(), 1u);
  EXPECT_EQ(sessions["data"][0]["id"], session_id);
  EXPECT_EQ(sessions["data"][0]["message_count"], 5);
  EXPECT_EQ(get_json(c, "/v1/sessions/" + session_id + "/messages"), messages_before);
  EXPECT_EQ(get_json(c, "/v1/sessions/" + session_id + "/trace"), trace_before);

  // A follow-up run continues the stored conversation: the model sees the earlier turns.
  const auto events = stream_events(
      post_stream(c, "/v1/agent/runs", Json{{"task", "What did I ask?"}, {"session_id", session_id}}));
  EXPECT_EQ(events.back()["answer"], "You asked about 6*7; it is 42.");
  const std::string prompt = s.backend->prompts().at(0);
  EXPECT_NE(prompt.find("What is 6*7?"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("<|im_start|>environment name=<|plugin|>\n42<|im_end|>"), std::string::npos)
      << prompt;
  EXPECT_NE(prompt.find("What did I ask?"), std::string::npos);
  EXPECT_EQ(get_json(c, "/v1/sessions/" + session_id + "/messages")["data"].size(), 7u);
  EXPECT_EQ(get_json(c, "/v1/sessions/" + session_id)["runs"].size(), 2u);
}

TEST(Sessions, CreateListAndTitle) {
  ScriptedServer s({});
  auto c = s.client();
  int status = 0;
  const Json created = post_json(c, "/v1/sessions", Json{{"title", "My analysis"}}, &status);
  EXPECT_EQ(status, 201);
  EXPECT_EQ(created["title"], "My analysis");
  EXPECT_EQ(created["message_count"], 0);
  const Json list = get_json(c, "/v1/sessions");
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], created["id"]);
  post_json(c, "/v1/sessions", Json{{"title", 5}}, &status);
  EXPECT_EQ(status, 400);
}

TEST(Workspace, UploadListDownload) {
  ScriptedServer s({});
  auto c = s.client();
  const std::string id = post_json(c, "/v1/sessions", Json::object())["id"];
  const std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>";
  httplib::MultipartFormDataItems items = {{"file", svg, "../../evil chart.svg", "image/svg+xml"}};
  auto res = c.Post(("/v1/sessions/" + id + "/files").c_str(), items);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const Json up = Json::parse(res->body);
  // The name is reduced to a safe last component inside the workspace.
  EXPECT_EQ(up["path"], "evil_chart.svg");
  EXPECT_EQ(up["bytes"], svg.size());

  const Json files = get_json(c, "/v1/sessions/" + id + "/files");
  ASSERT_EQ(files["data"].size(), 1u);
  EXPECT_EQ(files["data"][0]["path"], "evil_chart.svg");
  EXPECT_EQ(files["data"][0]["mime"], "image/svg+xml");

  auto got = c.Get(("/v1/sessions/" + id + "/files/evil_chart.svg").c_str());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, svg);
  EXPECT_EQ(got->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_NE(got->get_header_value("Content-Security-Policy").find("sandbox"), std::string::npos);

  // Nothing outside the workspace can be read.
  for (const char* path : {"/files/..%2F..%2Fagentrt.db", "/files/../../agentrt.db", "/files/missing.txt"}) {
    auto bad = c.Get(("/v1/sessions/" + id + path).c_str());
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 404) << path;
  }
  // Uploads need a file field and a known session.
  httplib::MultipartFormDataItems no_file = {{"other", "x", "", "text/plain"}};
  EXPECT_EQ(c.Post(("/v1/sessions/" + id + "/files").c_str(), no_file)->status, 400);
  EXPECT_EQ(c.Post("/v1/sessions/sess_nope/files", items)->status, 404);
}

TEST(Workspace, OversizedUploadIs413) {
  server::ServerOptions o;
  o.max_upload_bytes = 1000;
  ScriptedServer s({}, o);
  auto c = s.client();
  const std::string id = post_json(c, "/v1/sessions", Json::object())["id"];
  httplib::MultipartFormDataItems items = {{"file", std::string(200000, 'a'), "big.txt", "text/plain"}};
  auto res = c.Post(("/v1/sessions/" + id + "/files").c_str(), items);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Json::parse(res->body)["error"]["code"], "payload_too_large");
}

TEST(AgentRuns, CallsOfOneTurnRunTogetherAndAreTracedWithTheirTimes) {
  const std::string two =
      "Both.<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": "
      "\"6*7\"}}<|action_end|><|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": "
      "{\"expression\": \"2+3\"}}<|action_end|>";
  ScriptedServer s({two, "42 and 5.", two, "42 and 5."});
  auto c = s.client();
  for (const bool parallel : {true, false}) {
    int status = 0;
    const Json r =
        post_json(c, "/v1/agent/runs",
                  Json{{"task", "Two sums"}, {"stream", false}, {"parallel_tool_calls", parallel}}, &status);
    ASSERT_EQ(status, 200) << r.dump();
    EXPECT_EQ(r["tool_calls"], 2);
    std::vector<std::string> results;
    for (const auto& e : r["trace"]) {
      if (e["kind"] != "observation") continue;
      results.push_back(e["text"]);
      EXPECT_LE(e["t_start_ms"].get<long long>(), e["t_end_ms"].get<long long>()) << e.dump();
    }
    EXPECT_EQ(results, (std::vector<std::string>{"42", "5"}));  // in the calls' order
  }
  int status = 0;
  const Json bad =
      post_json(c, "/v1/agent/runs", Json{{"task", "x"}, {"parallel_tool_calls", "yes"}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(bad["error"]["param"], "parallel_tool_calls");
}

}  // namespace
}  // namespace agentrt::testing
