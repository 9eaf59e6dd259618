// Every class of bad request gets a 4xx answer with an OpenAI error object {"error": {message, type, param,
// code}}: malformed JSON, wrong types, out-of-range values, unknown model, oversized body, missing or wrong
// API key, unknown routes.
#include <gtest/gtest.h>

#include "server_harness.h"

namespace agentrt::testing {
namespace {

// Checks the error object's shape and returns it.
Json expect_error(const httplib::Result& res, int status) {
  EXPECT_TRUE(res) << "no response";
  if (!res) return {};
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_NE(res->get_header_value("Content-Type").find("application/json"), std::string::npos);
  const Json body = Json::parse(res->body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << res->body;
  if (!body.is_object() || !body.contains("error")) return {};
  const Json& e = body["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty());
  EXPECT_TRUE(e["type"].is_string());
  EXPECT_TRUE(e.contains("param"));
  EXPECT_TRUE(e.contains("code"));
  return e;
}

httplib::Result post(httplib::Client& c, const std::string& path, const std::string& body) {
  return c.Post(path.c_str(), body, "application/json");
}

TEST(BadRequests, MalformedJson) {
  ScriptedServer s({});
  auto c = s.client();
  // 1e999 overflows a double: the parser fails with out_of_range, not parse_error (found by
  // fuzz_server_request).
  for (const char* body : {"{\"model\": ", "not json", "", "[1, 2]", "\"text\"", "{\"model\": 1e999}"}) {
    const Json e = expect_error(post(c, "/v1/chat/completions", body), 400);
    EXPECT_EQ(e["type"], "invalid_request_error") << body;
    EXPECT_EQ(e["code"], "invalid_json") << body;
  }
  EXPECT_EQ(expect_error(post(c, "/v1/completions", "{oops}"), 400)["code"], "invalid_json");
  EXPECT_EQ(expect_error(post(c, "/v1/agent/runs", "{"), 400)["code"], "invalid_json");
}

TEST(BadRequests, WrongTypesNameTheParameter) {
  ScriptedServer s({});
  auto c = s.client();
  const Json msgs = Json::parse(R"([{"role": "user", "content": "hi"}])");
  struct Case {
    Json body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {Json{{"model", 5}, {"messages", msgs}}, "model"},
      {Json{{"model", "agentrt"}}, "messages"},
      {Json{{"model", "agentrt"}, {"messages", "hi"}}, "messages"},
      {Json{{"model", "agentrt"}, {"messages", Json::array()}}, "messages"},
      {Json{{"model", "agentrt"}, {"messages", Json::parse(R"([{"role": "wizard", "content": "x"}])")}},
       "messages"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"max_tokens", "ten"}}, "max_tokens"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"max_tokens", 0}}, "max_tokens"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"max_tokens", 2.5}}, "max_tokens"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"temperature", "hot"}}, "temperature"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"temperature", 9}}, "temperature"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"top_p", 0}}, "top_p"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"stream", "yes"}}, "stream"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"stop", 3}}, "stop"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"stop", Json::array({"a", "b", "c", "d", "e"})}},
       "stop"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"n", 2}}, "n"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"seed", "x"}}, "seed"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"tools", "calculator"}}, "tools"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"tools", Json::array({Json{{"type", "retrieval"}}})}},
       "tools"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"tool_choice", "sometimes"}}, "tool_choice"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"tool_choice", "required"}}, "tool_choice"},
      {Json{{"model", "agentrt"},
            {"messages", msgs},
            {"tool_choice", Json::parse(R"({"type": "function", "function": {"name": "missing"}})")}},
       "tool_choice"},
      {Json{{"model", "agentrt"}, {"messages", msgs}, {"stream_options", true}}, "stream_options"},
  };
  for (const auto& tc : cases) {
    const Json e = expect_error(post(c, "/v1/chat/completions", tc.body.dump()), 400);
    EXPECT_EQ(e["param"], tc.param) << tc.body.dump() << " -> " << e.dump();
    EXPECT_EQ(e["type"], "invalid_request_error");
  }
  EXPECT_EQ(expect_error(post(c, "/v1/completions", R"({"model": "agentrt", "prompt": 42})"), 400)["param"],
            "prompt");
  EXPECT_EQ(expect_error(post(c, "/v1/completions", R"({"model": "agentrt"})"), 400)["param"], "prompt");
  EXPECT_EQ(expect_error(post(c, "/v1/agent/runs", R"({"task": 42})"), 400)["param"], "task");
  EXPECT_EQ(expect_error(post(c, "/v1/agent/runs", R"({"task": "x", "max_turns": 0})"), 400)["param"],
            "max_turns");
  EXPECT_EQ(expect_error(post(c, "/v1/agent/runs", R"({"task": "x", "tools": ["nope"]})"), 400)["param"],
            "tools");
  // None of these reached the model.
  EXPECT_TRUE(s.backend->prompts().empty());
}

TEST(BadRequests, UnknownModel) {
  ScriptedServer s({});
  auto c = s.client();
  const Json e = expect_error(post(c, "/v1/chat/completions",
                                   R"({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})"),
                              404);
  EXPECT_EQ(e["code"], "model_not_found");
  EXPECT_EQ(e["param"], "model");
  EXPECT_EQ(expect_error(post(c, "/v1/completions", R"({"model": "gpt-4", "prompt": "x"})"), 404)["code"],
            "model_not_found");
}

TEST(BadRequests, OversizedBody) {
  server::ServerOptions o;
  o.max_body_bytes = 1024;
  ScriptedServer s({"never"}, o);
  auto c = s.client();
  const std::string big =
      Json{{"model", "agentrt"},
           {"messages", Json::array({Json{{"role", "user"}, {"content", std::string(5000, 'x')}}})}}
          .dump();
  const Json e = expect_error(post(c, "/v1/chat/completions", big), 413);
  EXPECT_EQ(e["code"], "payload_too_large");
  EXPECT_EQ(s.backend->prompts().size(), 0u);
  // A small request on a new connection still works.
  auto c2 = s.client();
  int status = 0;
  post_json(c2, "/v1/chat/completions",
            Json{{"model", "agentrt"}, {"messages", Json::parse(R"([{"role": "user", "content": "hi"}])")}},
            &status);
  EXPECT_EQ(status, 200);
}

TEST(BadRequests, ApiKeyRequiredWhenSet) {
  server::ServerOptions o;
  o.api_key = "sekrit-key";
  ScriptedServer s({"authorised"}, o);
  const std::string body = R"({"model": "agentrt", "messages": [{"role": "user", "content": "hi"}]})";
  {
    auto c = s.client();
    const Json e = expect_error(post(c, "/v1/chat/completions", body), 401);
    EXPECT_EQ(e["type"], "authentication_error");
    EXPECT_NE(e["message"].get<std::string>().find("missing"), std::string::npos);
    expect_error(c.Get("/v1/models"), 401);
    expect_error(c.Get("/v1/sessions"), 401);
  }
  {
    auto c = s.client();
    c.set_bearer_token_auth("wrong-key!");
    const Json e = expect_error(post(c, "/v1/chat/completions", body), 401);
    EXPECT_NE(e["message"].get<std::string>().find("incorrect"), std::string::npos);
  }
  {
    auto c = s.client();
    c.set_bearer_token_auth("sekrit-key");
    auto res = post(c, "/v1/chat/completions", body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(Json::parse(res->body)["choices"][0]["message"]["content"], "authorised");
  }
  // The page and the health check stay open.
  auto c = s.client();
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(c.Get("/")->status, 200);
}

TEST(BadRequests, UnknownRoutesAndMethods) {
  ScriptedServer s({});
  auto c = s.client();
  EXPECT_EQ(expect_error(c.Get("/v1/nothing-here"), 404)["code"], "not_found");
  expect_error(c.Get("/v1/chat/completions"), 404);
  expect_error(c.Get("/web/missing.js"), 404);
}

}  // namespace
}  // namespace agentrt::testing
