// No silent fields: every OpenAI field is honoured, or refused with a 400 naming it. response_format
// (json_object, json_schema with strict) is held by our engine's sampler and refused where the backend cannot
// hold it; parallel_tool_calls false gives at most one call; tool-call arguments stream as the model writes
// them and add up to the same string a non-streamed reply gives.
#include <gtest/gtest.h>

#include "agent/schema_validator.h"
#include "apps/server/engine_served_model.h"
#include "apps/server/tool_call_stream.h"
#include "server_harness.h"
#include "tiny_model.h"

namespace agentrt::testing {
namespace {

const Json kCalculatorTool = Json::parse(R"({"type": "function", "function": {"name": "calculator",
  "description": "Evaluates an arithmetic expression", "parameters": {"type": "object",
  "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}})");

// An OpenAI strict schema a random model can finish in a few tokens (enums, booleans, integers).
const Json kStrictSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "verdict": {"type": "string", "enum": ["yes", "no"], "description": "the answer"},
    "sure": {"type": "boolean"},
    "steps": {"type": "integer"},
    "detail": {"type": "object", "properties": {"unit": {"type": "string", "enum": ["m", "kg"]}},
               "required": ["unit"], "additionalProperties": false}
  },
  "required": ["verdict", "sure", "steps", "detail"],
  "additionalProperties": false
})");

Json chat(const std::string& text) {
  return Json{{"model", "agentrt"},
              {"messages", Json::array({Json{{"role", "user"}, {"content", text}}})},
              {"max_tokens", 300}};
}

Json json_schema_format(const Json& schema, bool strict = true) {
  return Json{{"type", "json_schema"},
              {"json_schema", Json{{"name", "verdict"}, {"schema", schema}, {"strict", strict}}}};
}

std::string plugin_call(const std::string& expression) {
  return "<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": \"" +
         expression + "\"}}<|action_end|>";
}

// The error's param (and status) of a chat request.
std::string refused_param(httplib::Client& c, const Json& body, int expected_status = 400) {
  int status = 0;
  const Json r = post_json(c, "/v1/chat/completions", body, &status);
  EXPECT_EQ(status, expected_status) << body.dump() << " -> " << r.dump();
  return r.contains("error") && r["error"]["param"].is_string() ? r["error"]["param"].get<std::string>() : "";
}

struct TinyEngineServer {
  std::unique_ptr<TestServer> server;
  TinyEngineServer() {
    agent::LocalEngineOptions lo;
    lo.threads = 1;
    lo.progress = false;
    auto model = server::serve_local_engine(
        std::make_unique<agent::LocalEngineBackend>(tiny_checkpoint(), lo), "agentrt", {});
    server::ServerOptions o;
    o.data_dir = fresh_dir("fields-engine");
    server = std::make_unique<TestServer>(model, o);
  }
};

TEST(OpenAIFields, UnknownAndUnhonouredFieldsAreRefusedByName) {
  ScriptedServer s({"ok", "ok"});
  auto c = s.client();
  const std::vector<std::pair<std::string, Json>> refused = {
      {"unknown_field", 1},
      {"logit_bias", Json{{"50256", -100}}},
      {"top_logprobs", 2},
      {"store", true},
      {"metadata", Json{{"k", "v"}}},
      {"audio", Json{{"voice", "alloy"}}},
      {"modalities", Json::array({"text", "audio"})},
      {"prediction", Json{{"type", "content"}, {"content", "x"}}},
      {"reasoning_effort", "high"},
      {"service_tier", "flex"},
      {"functions", Json::array({Json{{"name", "f"}}})},
      {"web_search_options", Json::object({{"search_context_size", "low"}})},
  };
  for (const auto& [field, value] : refused) {
    Json body = chat("hi");
    body[field] = value;
    EXPECT_EQ(refused_param(c, body), field);
  }
  Json body = chat("hi");
  body["stream_options"] = Json{{"include_usage", true}, {"include_obfuscation", true}};
  EXPECT_EQ(refused_param(c, body), "stream_options.include_obfuscation");
  // Fields that by OpenAI's definition leave the reply as it is.
  Json fine = chat("hi");
  fine["user"] = "user-42";
  fine["safety_identifier"] = "hash";
  fine["prompt_cache_key"] = "conversation-7";
  fine["service_tier"] = "auto";
  fine["store"] = false;
  fine["logit_bias"] = Json::object();
  fine["modalities"] = Json::array({"text"});
  fine["parallel_tool_calls"] = true;
  fine["response_format"] = Json{{"type", "text"}};
  int status = 0;
  post_json(c, "/v1/chat/completions", fine, &status);
  EXPECT_EQ(status, 200);
  // What remote backends (another agentrt among them) send to get special tokens back: already so here.
  Json completion{{"model", "agentrt"},
                  {"prompt", "x"},
                  {"skip_special_tokens", false},
                  {"spaces_between_special_tokens", false},
                  {"preserved_tokens", Json::array({"<|action_start|>"})}};
  post_json(c, "/v1/completions", completion, &status);
  EXPECT_EQ(status, 200);
  completion["skip_special_tokens"] = true;
  EXPECT_EQ(post_json(c, "/v1/completions", completion, &status)["error"]["param"], "skip_special_tokens");
  // The legacy completions endpoint has its own list.
  for (const auto& [field, value] : std::vector<std::pair<std::string, Json>>{
           {"suffix", "end"}, {"best_of", 3}, {"response_format", Json{{"type", "json_object"}}}}) {
    Json completion{{"model", "agentrt"}, {"prompt", "x"}, {field, value}};
    const Json r = post_json(c, "/v1/completions", completion, &status);
    EXPECT_EQ(status, 400) << field;
    EXPECT_EQ(r["error"]["param"], field);
  }
  EXPECT_EQ(s.backend->prompts().size(), 2u);  // only the requests with nothing refused reached the model
}

TEST(OpenAIFields, ResponseFormatIsRefusedWhereTheBackendCannotHoldIt) {
  ScriptedServer s({"{\"verdict\": \"yes\"}"});
  auto c = s.client();
  for (const Json& format : {Json{{"type", "json_object"}}, json_schema_format(kStrictSchema)}) {
    Json body = chat("hi");
    body["response_format"] = format;
    EXPECT_EQ(refused_param(c, body), "response_format");
  }
  // A strict tool needs a sampler that holds calls to schemas.
  Json strict_tool = kCalculatorTool;
  strict_tool["function"]["strict"] = true;
  Json body = chat("hi");
  body["tools"] = Json::array({strict_tool});
  EXPECT_EQ(refused_param(c, body), "tools");
  EXPECT_TRUE(s.backend->prompts().empty());
}

TEST(OpenAIFields, SchemasOutsideWhatIsEnforcedAreRefused) {
  TinyEngineServer s;
  auto c = s.server->client();
  auto param_and_message = [&](const Json& format) {
    Json body = chat("hi");
    body["response_format"] = format;
    int status = 0;
    const Json r = post_json(c, "/v1/chat/completions", body, &status);
    EXPECT_EQ(status, 400) << format.dump();
    EXPECT_EQ(r["error"]["param"], "response_format") << r.dump();
    return r["error"]["message"].get<std::string>();
  };
  Json pattern = kStrictSchema;
  pattern["properties"]["verdict"]["pattern"] = "^y";
  EXPECT_NE(param_and_message(json_schema_format(pattern)).find("'pattern'"), std::string::npos);
  Json any_of = kStrictSchema;
  any_of["properties"]["steps"] = Json{{"anyOf", Json::array({Json{{"type", "integer"}}})}};
  EXPECT_NE(param_and_message(json_schema_format(any_of)).find("'anyOf'"), std::string::npos);
  // OpenAI's strict rules: closed objects, every property required.
  Json open = kStrictSchema;
  open["properties"]["detail"].erase("additionalProperties");
  EXPECT_NE(param_and_message(json_schema_format(open)).find("additionalProperties"), std::string::npos);
  Json optional = kStrictSchema;
  optional["required"] = Json::array({"verdict"});
  EXPECT_NE(param_and_message(json_schema_format(optional)).find("'sure'"), std::string::npos);
  // ...which a non-strict schema need not follow.
  Json body = chat("hi");
  body["response_format"] = json_schema_format(optional, /*strict=*/false);
  int status = 0;
  post_json(c, "/v1/chat/completions", body, &status);
  EXPECT_EQ(status, 200);
  param_and_message(
      Json{{"type", "json_schema"}, {"json_schema", Json{{"schema", kStrictSchema}}}});  // no name
  param_and_message(Json{{"type", "xml"}});
  param_and_message(json_schema_format(Json{{"type", "array"}}));
}

TEST(OpenAIFields, JsonSchemaRepliesOfTheLocalEngineValidate) {
  TinyEngineServer s;
  auto c = s.server->client();
  for (const bool stream : {false, true}) {
    for (int seed = 1; seed <= 3; ++seed) {
      Json body = chat("Is it heavy?");
      body["response_format"] = json_schema_format(kStrictSchema);
      body["temperature"] = 1.0;
      body["seed"] = seed;
      body["stream"] = stream;
      std::string content;
      std::string finish;
      if (stream) {
        int status = 0;
        const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", body, &status));
        ASSERT_EQ(status, 200);
        for (const auto& p : payloads) {
          if (p == "[DONE]") continue;
          const Json ch = Json::parse(p);
          if (ch["choices"].empty()) continue;
          const Json& d = ch["choices"][0]["delta"];
          if (d.contains("content")) content += d["content"].get<std::string>();
          if (!ch["choices"][0]["finish_reason"].is_null()) finish = ch["choices"][0]["finish_reason"];
        }
      } else {
        int status = 0;
        const Json r = post_json(c, "/v1/chat/completions", body, &status);
        ASSERT_EQ(status, 200) << r.dump();
        content = r["choices"][0]["message"]["content"];
        finish = r["choices"][0]["finish_reason"];
      }
      EXPECT_EQ(finish, "stop") << content;
      const Json reply = Json::parse(content, nullptr, false);
      ASSERT_TRUE(reply.is_object()) << content;
      EXPECT_TRUE(agent::validate_against_schema(kStrictSchema, reply).empty()) << content;
    }
  }
  // json_object: any object.
  Json body = chat("Give me JSON");
  body["response_format"] = Json{{"type", "json_object"}};
  body["max_tokens"] = 2000;
  const Json r = post_json(c, "/v1/chat/completions", body);
  const std::string content = r["choices"][0]["message"]["content"];
  if (r["choices"][0]["finish_reason"] == "stop") {
    EXPECT_TRUE(Json::parse(content, nullptr, false).is_object()) << content;
  }
  EXPECT_EQ(content.rfind("{", 0), 0u) << content;  // the value first, no whitespace before it
}

TEST(OpenAIFields, JsonSchemaWithToolsIsACallOrTheJson) {
  TinyEngineServer s;
  auto c = s.server->client();
  for (int seed = 1; seed <= 4; ++seed) {
    Json body = chat("Compute or answer");
    body["response_format"] = json_schema_format(kStrictSchema);
    Json strict_tool = kCalculatorTool;
    strict_tool["function"]["strict"] = true;  // the call's arguments are held to the tool's schema too
    body["tools"] = Json::array({strict_tool});
    body["temperature"] = 1.0;
    body["seed"] = seed;
    int status = 0;
    const Json r = post_json(c, "/v1/chat/completions", body, &status);
    ASSERT_EQ(status, 200) << r.dump();
    const Json& msg = r["choices"][0]["message"];
    if (msg.contains("tool_calls")) {
      const Json args = Json::parse(msg["tool_calls"][0]["function"]["arguments"].get<std::string>());
      EXPECT_TRUE(args.contains("expression")) << r.dump();
    } else if (r["choices"][0]["finish_reason"] == "stop") {
      const Json reply = Json::parse(msg["content"].get<std::string>());
      EXPECT_TRUE(agent::validate_against_schema(kStrictSchema, reply).empty()) << r.dump();
    }
  }
}

TEST(OpenAIFields, ParallelToolCallsFalseGivesOneCall) {
  const std::string two_calls = "Both." + plugin_call("1+1") + plugin_call("2+2");
  ScriptedServer s({two_calls, two_calls});
  auto c = s.client();
  Json body = chat("Add twice");
  body["tools"] = Json::array({kCalculatorTool});
  const Json both = post_json(c, "/v1/chat/completions", body);
  EXPECT_EQ(both["choices"][0]["message"]["tool_calls"].size(), 2u) << both.dump();
  body["parallel_tool_calls"] = false;
  const Json one = post_json(c, "/v1/chat/completions", body);
  ASSERT_EQ(one["choices"][0]["message"]["tool_calls"].size(), 1u) << one.dump();
  EXPECT_EQ(
      Json::parse(one["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].get<std::string>()),
      Json::parse(R"({"expression": "1+1"})"));
  // The backend was told to end the reply at the first call's end.
  const auto stops = s.backend->params().at(1).stop;
  EXPECT_NE(std::find(stops.begin(), stops.end(), "<|action_end|>"), stops.end()) << Json(stops).dump();
}

TEST(OpenAIFields, ToolCallArgumentsStreamAsTheyAreWritten) {
  const std::string reply = "Computing." + std::string(
                                               "<|action_start|><|plugin|>\n{\"name\": \"calculator\", "
                                               "\"parameters\": {\"expression\": \"(2 + 3) * "
                                               "{7}\", \"note\": \"say \\\"hi\\\"\"}}<|action_end|>");
  ScriptedServer s({reply, reply});
  auto c = s.client();
  Json body = chat("Compute");
  body["tools"] = Json::array({kCalculatorTool});
  const Json whole = post_json(c, "/v1/chat/completions", body);
  const std::string expected = whole["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"];
  // The arguments as the model wrote them (its spacing kept), which JSON-parse to what the parser read.
  EXPECT_EQ(expected, R"({"expression": "(2 + 3) * {7}", "note": "say \"hi\""})");
  body["stream"] = true;
  const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", body));
  std::string arguments, name, content;
  int argument_deltas = 0, headers = 0;
  for (const auto& p : payloads) {
    if (p == "[DONE]") continue;
    const Json ch = Json::parse(p);
    if (ch["choices"].empty()) continue;
    const Json& d = ch["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (!d.contains("tool_calls")) continue;
    const Json& tc = d["tool_calls"][0];
    EXPECT_EQ(tc["index"], 0);
    if (tc.contains("id")) {
      ++headers;
      name = tc["function"]["name"];
      EXPECT_EQ(tc["function"]["arguments"], "");
      EXPECT_EQ(arguments, "");  // announced before any argument byte
    } else {
      ++argument_deltas;
      arguments += tc["function"]["arguments"].get<std::string>();
    }
  }
  EXPECT_EQ(content, "Computing.");
  EXPECT_EQ(headers, 1);
  EXPECT_EQ(name, "calculator");
  EXPECT_EQ(arguments, expected);
  // Three bytes per scripted chunk: the arguments came in many pieces, as they were written.
  EXPECT_GT(argument_deltas, 10);
}

TEST(CallArgumentsStream, FollowsTheCallByteByByte) {
  const std::string raw =
      "\n```json\n{\"name\": \"search\", \"parameters\": {\"q\": \"a } b\", \"n\": [1, {\"x\": "
      "\"\\\\\"}]}}\n```";
  server::CallArgumentsStream s;
  std::string released;
  bool named_before_arguments = false;
  for (size_t i = 1; i <= raw.size(); ++i) {
    s.update(std::string_view(raw).substr(0, i));
    if (s.has_name() && released.empty()) named_before_arguments = true;
    released += s.take_released();
  }
  EXPECT_TRUE(named_before_arguments);
  EXPECT_EQ(s.name(), "search");
  EXPECT_TRUE(s.arguments_complete());
  EXPECT_EQ(released, R"({"q": "a } b", "n": [1, {"x": "\\"}]})");
  EXPECT_EQ(s.final_arguments(Json::parse(released)), released);
  // Parsed differently (e.g. string-encoded arguments the parser decoded): the parsed value, serialized.
  EXPECT_EQ(s.final_arguments(Json{{"q", 1}}), R"({"q":1})");
}

TEST(CallArgumentsStream, ArgumentsBeforeTheNameWaitForIt) {
  server::CallArgumentsStream s;
  s.update(R"({"arguments": {"a": 1}, )");
  EXPECT_FALSE(s.has_name());
  EXPECT_EQ(s.take_released(), "");
  s.update(R"({"arguments": {"a": 1}, "name": "f"})");
  EXPECT_EQ(s.name(), "f");
  EXPECT_EQ(s.take_released(), R"({"a": 1})");
  // A string-encoded parameters value is not streamed (the parser decodes it at the end).
  server::CallArgumentsStream t;
  t.update(R"({"name": "f", "parameters": "{\"a\": 1}"})");
  EXPECT_TRUE(t.has_name());
  EXPECT_FALSE(t.arguments_complete());
  EXPECT_EQ(t.take_released(), "");
}

}  // namespace
}  // namespace agentrt::testing
