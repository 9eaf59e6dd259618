// /health, /v1/models, /v1/completions and /v1/chat/completions on a scripted backend: answers, tools,
// tool_choice, tool messages, streaming (SSE chunk format with tool-call deltas), usage.
#include <gtest/gtest.h>

#include "server_harness.h"

namespace agentrt::testing {
namespace {

const Json kCalculatorTool = Json::parse(R"({"type": "function", "function": {"name": "calculator",
  "description": "Evaluates an arithmetic expression", "parameters": {"type": "object",
  "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}})");

Json chat(const Json& messages) {
  return Json{{"model", "agentrt"}, {"messages", messages}};
}
Json user(const std::string& text) {
  return Json::array({Json{{"role", "user"}, {"content", text}}});
}

TEST(ServerBasics, HealthAndModels) {
  ScriptedServer s({});
  auto c = s.client();
  int status = 0;
  EXPECT_EQ(get_json(c, "/health", &status)["status"], "ok");
  EXPECT_EQ(status, 200);
  const Json models = get_json(c, "/v1/models", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "agentrt");
  EXPECT_EQ(get_json(c, "/v1/models/agentrt", &status)["id"], "agentrt");
  EXPECT_EQ(get_json(c, "/v1/models/other", &status)["error"]["code"], "model_not_found");
  EXPECT_EQ(status, 404);
}

TEST(ChatCompletions, PlainAnswerWithUsage) {
  ScriptedServer s({"Hello, friend."});
  auto c = s.client();
  int status = 0;
  const Json r = post_json(c, "/v1/chat/completions", chat(user("hi")), &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["model"], "agentrt");
  EXPECT_EQ(r["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(r["choices"][0]["message"]["content"], "Hello, friend.");
  EXPECT_FALSE(r["choices"][0]["message"].contains("tool_calls"));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  // The scripted backend counts one token per streamed chunk of 3 bytes.
  EXPECT_EQ(r["usage"]["completion_tokens"], 5);
  EXPECT_EQ(r["usage"]["total_tokens"], r["usage"]["prompt_tokens"].get<int>() + 5);
  const auto prompts = s.backend->prompts();
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0], "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  // Every chat turn stops at the end of the assistant turn.
  const auto params = s.backend->params();
  EXPECT_NE(std::find(params[0].stop.begin(), params[0].stop.end(), "<|im_end|>"), params[0].stop.end());
}

TEST(ChatCompletions, ToolCallInAnswerAndToolsDeclared) {
  ScriptedServer s(
      {"Let me compute.<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": "
       "{\"expression\": \"2+3\"}}<|action_end|>"});
  auto c = s.client();
  Json body = chat(user("what is 2+3?"));
  body["tools"] = Json::array({kCalculatorTool});
  int status = 0;
  const Json r = post_json(c, "/v1/chat/completions", body, &status);
  ASSERT_EQ(status, 200) << r.dump();
  const Json& msg = r["choices"][0]["message"];
  EXPECT_EQ(msg["content"], "Let me compute.");
  ASSERT_EQ(msg["tool_calls"].size(), 1u);
  EXPECT_EQ(msg["tool_calls"][0]["type"], "function");
  EXPECT_EQ(msg["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "calculator");
  EXPECT_EQ(Json::parse(msg["tool_calls"][0]["function"]["arguments"].get<std::string>()),
            Json::parse(R"({"expression": "2+3"})"));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "tool_calls");
  const std::string prompt = s.backend->prompts().at(0);
  EXPECT_NE(prompt.find("<|im_start|>system name=<|plugin|>\n["), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("\"name\": \"calculator\""), std::string::npos);
  // Without --constrain-tools the backend is not asked to constrain calls.
  EXPECT_TRUE(s.backend->params().at(0).constrain_tools.is_null());
}

TEST(ChatCompletions, ConstrainToolsAsksTheBackendForValidCalls) {
  server::ServerOptions o;
  o.constrain_tools = true;
  ScriptedServer s({"plain", "{\"expression\": \"1\"}}<|action_end|>", "no tools"}, o);
  auto c = s.client();
  Json other = kCalculatorTool;
  other["function"]["name"] = "other_tool";
  Json body = chat(user("x"));
  body["tools"] = Json::array({kCalculatorTool, other});
  post_json(c, "/v1/chat/completions", body);
  body["tool_choice"] = Json::parse(R"({"type": "function", "function": {"name": "calculator"}})");
  post_json(c, "/v1/chat/completions", body);
  body["tool_choice"] = "none";
  post_json(c, "/v1/chat/completions", body);
  const auto params = s.backend->params();
  ASSERT_EQ(params.size(), 3u);
  ASSERT_EQ(params[0].constrain_tools.size(), 2u);
  EXPECT_EQ(params[0].constrain_tools[0]["name"], "calculator");
  ASSERT_EQ(params[1].constrain_tools.size(), 1u);  // only the named tool
  EXPECT_EQ(params[1].constrain_tools[0]["name"], "calculator");
  EXPECT_TRUE(params[2].constrain_tools.is_null());
}

TEST(ChatCompletions, ToolMessagesInRequestRenderAsEnvironmentTurns) {
  ScriptedServer s({"2+3 is 5."});
  auto c = s.client();
  const Json messages = Json::parse(R"([
    {"role": "user", "content": "what is 2+3?"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "calculator", "arguments": "{\"expression\": \"2+3\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "5"}])");
  Json body = chat(messages);
  body["tools"] = Json::array({kCalculatorTool});
  int status = 0;
  const Json r = post_json(c, "/v1/chat/completions", body, &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["choices"][0]["message"]["content"], "2+3 is 5.");
  const std::string prompt = s.backend->prompts().at(0);
  EXPECT_NE(
      prompt.find("<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": "
                  "\"2+3\"}}<|action_end|>"),
      std::string::npos)
      << prompt;
  EXPECT_NE(prompt.find("<|im_start|>environment name=<|plugin|>\n5<|im_end|>\n<|im_start|>assistant\n"),
            std::string::npos)
      << prompt;
}

TEST(ChatCompletions, ToolChoiceNoneDeclaresNoToolsAndReturnsText) {
  ScriptedServer s({"No tools needed: 5."});
  auto c = s.client();
  Json body = chat(user("what is 2+3?"));
  body["tools"] = Json::array({kCalculatorTool});
  body["tool_choice"] = "none";
  const Json r = post_json(c, "/v1/chat/completions", body);
  EXPECT_EQ(r["choices"][0]["message"]["content"], "No tools needed: 5.");
  EXPECT_EQ(s.backend->prompts().at(0).find("<|plugin|>"), std::string::npos);
}

TEST(ChatCompletions, ToolChoiceRequiredPrefillsTheCall) {
  ScriptedServer s({"{\"name\": \"calculator\", \"parameters\": {\"expression\": \"7*6\"}}<|action_end|>"});
  auto c = s.client();
  Json body = chat(user("compute 7*6"));
  body["tools"] = Json::array({kCalculatorTool});
  body["tool_choice"] = "required";
  const Json r = post_json(c, "/v1/chat/completions", body);
  const std::string prompt = s.backend->prompts().at(0);
  EXPECT_TRUE(prompt.ends_with("<|im_start|>assistant\n<|action_start|><|plugin|>\n")) << prompt;
  const Json& msg = r["choices"][0]["message"];
  EXPECT_TRUE(msg["content"].is_null()) << r.dump();
  ASSERT_EQ(msg["tool_calls"].size(), 1u) << r.dump();
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "calculator");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "tool_calls");
}

TEST(ChatCompletions, NamedToolChoiceForcesThatFunction) {
  ScriptedServer s({"{\"expression\": \"1+1\"}}<|action_end|>"});
  auto c = s.client();
  Json body = chat(user("add one and one"));
  Json other = kCalculatorTool;
  other["function"]["name"] = "other_tool";
  body["tools"] = Json::array({other, kCalculatorTool});
  body["tool_choice"] = Json::parse(R"({"type": "function", "function": {"name": "calculator"}})");
  const Json r = post_json(c, "/v1/chat/completions", body);
  EXPECT_TRUE(s.backend->prompts().at(0).ends_with(
      "<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": "));
  const Json& call = r["choices"][0]["message"]["tool_calls"].at(0);
  EXPECT_EQ(call["function"]["name"], "calculator");
  EXPECT_EQ(Json::parse(call["function"]["arguments"].get<std::string>()),
            Json::parse(R"({"expression": "1+1"})"));
}

TEST(ChatCompletions, StreamingChunksFollowTheOpenAIFormat) {
  ScriptedServer s(
      {"Computing now.<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": "
       "{\"expression\": \"2+3\"}}<|action_end|>"});
  auto c = s.client();
  Json body = chat(user("what is 2+3?"));
  body["tools"] = Json::array({kCalculatorTool});
  body["stream"] = true;
  body["stream_options"] = Json{{"include_usage", true}};
  int status = 0;
  auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  (void)status;
  // Every event is "data: <payload>\n\n".
  EXPECT_EQ(res->body.rfind("data: ", 0), 0u);
  EXPECT_TRUE(res->body.ends_with("data: [DONE]\n\n"));
  const auto payloads = sse_payloads(res->body);
  ASSERT_GE(payloads.size(), 6u);
  EXPECT_EQ(payloads.back(), "[DONE]");
  std::vector<Json> chunks;
  for (size_t i = 0; i + 1 < payloads.size(); ++i) chunks.push_back(Json::parse(payloads[i]));
  const std::string id = chunks[0]["id"];
  for (const auto& ch : chunks) {
    EXPECT_EQ(ch["object"], "chat.completion.chunk");
    EXPECT_EQ(ch["id"], id);
    EXPECT_EQ(ch["model"], "agentrt");
  }
  EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
  std::string content;
  std::string name, arguments, call_id;
  Json finish;
  for (const auto& ch : chunks) {
    if (ch["choices"].empty()) continue;
    const Json& d = ch["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("tool_calls")) {
      const Json& tc = d["tool_calls"][0];
      EXPECT_EQ(tc["index"], 0);
      if (tc.contains("id")) call_id = tc["id"];
      if (tc["function"].contains("name")) name += tc["function"]["name"].get<std::string>();
      arguments += tc["function"]["arguments"].get<std::string>();
    }
    if (!ch["choices"][0]["finish_reason"].is_null()) finish = ch["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(content, "Computing now.");
  EXPECT_EQ(name, "calculator");
  EXPECT_EQ(call_id.rfind("call_", 0), 0u);
  EXPECT_EQ(Json::parse(arguments), Json::parse(R"({"expression": "2+3"})"));
  EXPECT_EQ(finish, "tool_calls");
  // The usage chunk comes last, with no choices.
  EXPECT_TRUE(chunks.back()["choices"].empty());
  EXPECT_GT(chunks.back()["usage"]["completion_tokens"].get<int>(), 0);
  // Content is streamed as it arrives, in several deltas, not in one piece at the end.
  int content_chunks = 0;
  for (const auto& ch : chunks) {
    if (!ch["choices"].empty() && ch["choices"][0]["delta"].contains("content") &&
        !ch["choices"][0]["delta"]["content"].get<std::string>().empty()) {
      ++content_chunks;
    }
  }
  EXPECT_GE(content_chunks, 3);
}

TEST(ChatCompletions, StreamWithoutUsageEndsWithFinishReason) {
  ScriptedServer s({"short"});
  auto c = s.client();
  Json body = chat(user("hi"));
  body["stream"] = true;
  const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", body));
  ASSERT_GE(payloads.size(), 3u);
  const Json last = Json::parse(payloads[payloads.size() - 2]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(last.contains("usage"));
}

TEST(Completions, PromptIsPassedThroughUnchanged) {
  ScriptedServer s({" world", " again"});
  auto c = s.client();
  const std::string prompt = "<|im_start|>user\nraw text<|im_end|>\nHello";
  int status = 0;
  const Json r = post_json(c, "/v1/completions",
                           Json{{"model", "agentrt"}, {"prompt", prompt}, {"max_tokens", 8}}, &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["text"], " world");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(s.backend->prompts().at(0), prompt);
  EXPECT_EQ(s.backend->params().at(0).max_tokens, 8);
  EXPECT_TRUE(s.backend->params().at(0).stop.empty());

  const auto payloads = sse_payloads(post_stream(
      c, "/v1/completions", Json{{"model", "agentrt"}, {"prompt", Json::array({prompt})}, {"stream", true}}));
  std::string text;
  ASSERT_GE(payloads.size(), 2u);
  for (size_t i = 0; i + 1 < payloads.size(); ++i) {
    const Json ch = Json::parse(payloads[i]);
    EXPECT_EQ(ch["object"], "text_completion");
    text += ch["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, " again");
  EXPECT_EQ(payloads.back(), "[DONE]");
}

TEST(ChatCompletions, SamplingParametersReachTheBackend) {
  ScriptedServer s({"ok"});
  auto c = s.client();
  Json body = chat(user("hi"));
  body["max_tokens"] = 33;
  body["temperature"] = 0.5;
  body["top_p"] = 0.9;
  body["seed"] = 7;
  body["stop"] = "END";
  post_json(c, "/v1/chat/completions", body);
  const auto p = s.backend->params().at(0);
  EXPECT_EQ(p.max_tokens, 33);
  EXPECT_FLOAT_EQ(p.temperature, 0.5f);
  EXPECT_FLOAT_EQ(p.top_p, 0.9f);
  EXPECT_EQ(p.seed, 7u);
  EXPECT_NE(std::find(p.stop.begin(), p.stop.end(), "END"), p.stop.end());
}

TEST(ChatCompletions, BackendFailureIsA502WithAnErrorObject) {
  ScriptedServer s({});  // no reply left: the backend throws
  auto c = s.client();
  int status = 0;
  const Json r = post_json(c, "/v1/chat/completions", chat(user("hi")), &status);
  EXPECT_EQ(status, 502);
  EXPECT_EQ(r["error"]["type"], "server_error");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("backend"), std::string::npos);

  Json body = chat(user("hi"));
  body["stream"] = true;
  const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", body));
  ASSERT_GE(payloads.size(), 2u);
  EXPECT_EQ(Json::parse(payloads[payloads.size() - 2])["error"]["type"], "server_error");
  EXPECT_EQ(payloads.back(), "[DONE]");
}

}  // namespace
}  // namespace agentrt::testing
