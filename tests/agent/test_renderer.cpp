#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "agent/message_io.h"
#include "agent/py_json.h"
#include "agent/renderer.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

std::string read_golden(const std::string& name) {
  std::ifstream in(std::string(AGENTRT_SOURCE_DIR) + "/tests/agent/golden/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kWeatherTool = R"({
  "name": "get_current_weather",
  "description": "Get the current weather in a given location",
  "parameters": {"type": "object",
                 "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                                "unit": {"type": "string"}},
                 "required": ["location"]}})";

const char* kSearchZhTool = R"({
  "name": "搜索", "description": "在本地文档中搜索「天气」等信息",
  "parameters": [{"name": "query", "type": "STRING", "description": "查询词"}], "required": ["query"]})";

}  // namespace

// ../shared/spec/internlm2-protocol.md §3: the official example of chat_format.md, byte for byte (tool list
// and call given as raw content).
TEST(Renderer, OfficialFunctionCallExampleByteForByte) {
  const std::string tools_text =
      "[\n    {\n        \"name\": \"get_current_weather\",\n        \"description\": \"Get the current "
      "weather in a "
      "given location\",\n        \"parameters\": {\n            \"type\": \"object\",\n            "
      "\"properties\": "
      "{\n                \"location\": {\n                    \"type\": \"string\",\n                    "
      "\"description\": \"The city and state, e.g. San Francisco, CA\",\n                },\n                "
      "\"unit\": {\"type\": \"string\"},\n            },\n            \"required\": [\"location\"],\n        "
      "},\n    "
      "}\n]\n";
  Json messages = Json::array({
      {{"role", "system"}, {"content", "You are InternLM2-Chat, a harmless AI assistant"}},
      {{"role", "system"}, {"name", "plugin"}, {"content", tools_text}},
      {{"role", "user"}, {"content", "I want to know today's weather in Shanghai"}},
      {{"role", "assistant"},
       {"content",
        "Sure, I will search for the weather of Shanghai.<|action_start|><|plugin|>\n{\"name\": "
        "\"get_current_weather\", \"parameters\": {\"location\": \"Shanghai\"}}<|action_end|>"}},
      {{"role", "environment"}, {"name", "plugin"}, {"content", "{\"temperature\": 22}"}},
      {{"role", "assistant"}, {"content", "The weather in Shanghai is 22 celsius"}},
  });
  RenderOptions opts;
  opts.add_generation_prompt = false;
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts), read_golden("official_function_call.txt"));
}

// ../shared/spec/internlm2-protocol.md §5: lmdeploy's own test of its internlm2 template, reproduced exactly.
TEST(Renderer, LmdeployExpectedStringByteForByte) {
  const std::string tools =
      R"([{"description": "Compute the sum of two numbers", "name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "int", "description": "A number"}, "b": {"type": "int", "description": "A number"}}, "required": ["a", "b"]}}, {"description": "Calculate the product of two numbers", "name": "mul", "parameters": {"type": "object", "properties": {"a": {"type": "int", "description": "A number"}, "b": {"type": "int", "description": "A number"}}, "required": ["a", "b"]}}])";
  Json messages = Json::array({
      {{"role", "system"}, {"name", "plugin"}, {"content", tools}},
      {{"role", "user"}, {"content", "Compute (3+5)*2"}},
      {{"content", "(3+5)*2 = 8*2 ="},
       {"role", "assistant"},
       {"tool_calls", Json::array({{{"id", "1"},
                                    {"function", {{"arguments", "{\"a\": 8, \"b\": 2}"}, {"name", "mul"}}},
                                    {"type", "function"}}})}},
      {{"role", "tool"}, {"content", "3+5=16"}, {"tool_call_id", "1"}},
  });
  const std::string expected =
      "<|im_start|>system name=<|plugin|>\n" + tools +
      "<|im_end|>\n<|im_start|>user\nCompute (3+5)*2<|im_end|>\n<|im_start|>assistant\n(3+5)*2 = 8*2 "
      "=<|action_start|><|plugin|>\n{\"name\": \"mul\", \"parameters\": {\"a\": 8, \"b\": "
      "2}}<|action_end|><|im_end|>\n<|im_start|>environment\n3+5=16<|im_end|>\n<|im_start|>assistant\n";
  RenderOptions opts;
  opts.flavor = Flavor::LMDeploy;
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts), expected);
}

// Structured tools and calls in the default flavour, against prompts written by Python's json.dumps
// (tests/agent/golden/make_goldens.py): indent=4 tool list incl. a Lagent-style description and unescaped
// Chinese.
TEST(Renderer, InternLM2FlavourMatchesPythonJsonDumps) {
  Json messages = Json::array({
      {{"role", "system"}, {"content", "You are InternLM2-Chat, a harmless AI assistant"}},
      {{"role", "user"}, {"content", "I want to know today's weather in Shanghai"}},
      {{"role", "assistant"},
       {"content", "Sure, I will search for the weather of Shanghai."},
       {"tool_calls", Json::array({{{"id", "c1"},
                                    {"type", "function"},
                                    {"function",
                                     {{"name", "get_current_weather"},
                                      {"arguments", "{\"location\": \"上海\", \"unit\": \"celsius\"}"}}}}})}},
      {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "{\"temperature\": 22}"}},
  });
  RenderOptions opts;
  opts.tools = Json::array(
      {{{"type", "function"}, {"function", Json::parse(kWeatherTool)}}, Json::parse(kSearchZhTool)});
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts), read_golden("internlm2_structured.txt"));
}

TEST(Renderer, LmdeployFlavourMatchesPythonJsonDumps) {
  Json messages = Json::array({
      {{"role", "system"}, {"name", "interpreter"}, {"content", "You have access to a Lua environment."}},
      {{"role", "user"}, {"content", "Weather?"}},
      {{"role", "assistant"},
       {"content", "Let me check."},
       {"tool_calls", Json::array({{{"id", "7"},
                                    {"function",
                                     {{"name", "get_current_weather"},
                                      {"arguments", Json{{"location", "上海"}, {"unit", "celsius"}}}}}}})}},
      {{"role", "tool"}, {"tool_call_id", "7"}, {"content", "{\"temperature\": 22}"}},
  });
  RenderOptions opts;
  opts.flavor = Flavor::LMDeploy;
  opts.tools = Json::array({Json::parse(kWeatherTool), Json::parse(kSearchZhTool)});
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts), read_golden("lmdeploy_structured.txt"));
}

TEST(Renderer, LmdeployAddsMetaInstructionWithoutLeadingSystem) {
  Json messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  RenderOptions opts;
  opts.flavor = Flavor::LMDeploy;
  const std::string out = render_prompt(messages_from_json(messages), opts);
  EXPECT_EQ(out.rfind("<|im_start|>system\nYou are an AI assistant whose name is InternLM (书生·浦语).\n", 0),
            0u);
  EXPECT_NE(out.find("中文.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"),
            std::string::npos);
  opts.meta_instruction = "";
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(Renderer, DefaultFlavourHasNoDefaultSystem) {
  Json messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_EQ(render_prompt(messages_from_json(messages), {}),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(Renderer, DeclarationsFollowLeadingSystemTurnsInOrder) {
  std::vector<Message> messages{{Role::System, "", "general", {}, ""}, {Role::User, "", "task", {}, ""}};
  RenderOptions opts;
  opts.interpreter_prompt = "Run Lua.";
  opts.tools = Json::array({Json::parse(kWeatherTool)});
  opts.plugin_template = "You can use these tools:\n{tools}\nAnswer directly when you can.";
  const std::string out = render_prompt(messages, opts);
  const auto general = out.find("<|im_start|>system\ngeneral<|im_end|>");
  const auto interp = out.find("<|im_start|>system name=<|interpreter|>\nRun Lua.<|im_end|>");
  const auto plugin = out.find("<|im_start|>system name=<|plugin|>\nYou can use these tools:\n[\n    {");
  const auto user = out.find("<|im_start|>user\ntask");
  ASSERT_NE(plugin, std::string::npos);
  EXPECT_LT(general, interp);
  EXPECT_LT(interp, plugin);
  EXPECT_LT(plugin, user);
  EXPECT_NE(out.find("]\nAnswer directly when you can.<|im_end|>"), std::string::npos);
}

TEST(Renderer, InterpreterCallsAndResultsInHistory) {
  Action code;
  code.channel = Channel::Interpreter;
  code.name = "interpreter";
  code.code = "return 6*7";
  code.language = "lua";
  code.id = "x";
  std::vector<Message> messages{{Role::User, "", "6*7?", {}, ""},
                                {Role::Assistant, "", "Computing.", {code}, ""},
                                {Role::Environment, "", "42", {}, "x"}};
  RenderOptions opts;
  opts.add_generation_prompt = false;
  EXPECT_EQ(render_prompt(messages, opts),
            "<|im_start|>user\n6*7?<|im_end|>\n<|im_start|>assistant\nComputing.<|action_start|><|"
            "interpreter|>\n```lua\n"
            "return 6*7\n```<|action_end|>\n<|im_end|>\n<|im_start|>environment "
            "name=<|interpreter|>\n42<|im_end|>\n");
}

TEST(Renderer, KeepsRawModelOutputOfCalls) {
  Action a;
  a.name = "calculator";
  a.arguments = Json{{"expression", "1+1"}};
  a.raw = "{\"name\":\"calculator\",\"parameters\":{\"expression\":\"1+1\"}}";
  std::vector<Message> messages{{Role::Assistant, "", "t", {a}, ""}};
  RenderOptions opts;
  opts.add_generation_prompt = false;
  EXPECT_EQ(render_prompt(messages, opts),
            "<|im_start|>assistant\nt<|action_start|><|plugin|>{\"name\":\"calculator\",\"parameters\":{"
            "\"expression\":"
            "\"1+1\"}}<|action_end|>\n<|im_end|>\n");
}

TEST(Renderer, OtherNamesRenderAsGivenInDefaultFlavour) {
  Json messages =
      Json::array({{{"role", "user"}, {"name", "file"}, {"content", "[{\"path\": \"data.csv\"}]"}}});
  RenderOptions opts;
  opts.add_generation_prompt = false;
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts),
            "<|im_start|>user name=file\n[{\"path\": \"data.csv\"}]<|im_end|>\n");
  opts.flavor = Flavor::LMDeploy;
  opts.meta_instruction = "";
  EXPECT_EQ(render_prompt(messages_from_json(messages), opts),
            "<|im_start|>user\n[{\"path\": \"data.csv\"}]<|im_end|>\n");
}

TEST(Renderer, RejectsBadToolDescriptions) {
  RenderOptions opts;
  opts.tools = Json::array({{{"description", "no name"}}});
  EXPECT_THROW(render_prompt({}, opts), std::invalid_argument);
  opts.tools = Json::array({{{"type", "function"}, {"function", "x"}}});
  EXPECT_THROW(render_prompt({}, opts), std::invalid_argument);
  EXPECT_THROW(normalize_tool_descriptions(Json::object()), std::invalid_argument);
}

TEST(MessageIo, RejectsMalformedMessagesWithTheirIndex) {
  auto msg_of = [](const Json& j) {
    try {
      messages_from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(msg_of(Json::object()), "messages must be a JSON list");
  EXPECT_EQ(msg_of(Json::array({{{"role", "robot"}, {"content", "x"}}})),
            "messages[0]: unknown role 'robot' (expected system, user, assistant, environment or tool)");
  EXPECT_EQ(msg_of(Json::array({{{"role", "user"}, {"content", "a"}}, {{"content", "x"}}})),
            "messages[1]: needs a string \"role\"");
  EXPECT_EQ(msg_of(Json::array(
                {{{"role", "assistant"},
                  {"content", ""},
                  {"tool_calls", Json::array({{{"function", {{"name", "f"}, {"arguments", "{oops"}}}}})}}})),
            "messages[0]: tool call 'f' has arguments that are not valid JSON");
  EXPECT_EQ(msg_of(Json::array({{{"role", "user"}, {"content", 5}}})),
            "messages[0]: content must be a string, null or a list of text parts");
}

TEST(MessageIo, AcceptsTextPartsAndNullContent) {
  auto m = messages_from_json(Json::array(
      {{{"role", "user"},
        {"content", Json::array({{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}})}},
       {{"role", "assistant"}, {"content", nullptr}}}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].content, "ab");
  EXPECT_EQ(m[1].content, "");
}

TEST(PyJson, MatchesPythonSeparatorsAndEscapes) {
  Json v = Json::parse(R"({"b": [1, 2.5, true, null, "é\n\"x\"\u0001"], "a": {}, "c": []})");
  EXPECT_EQ(py_dumps(v), R"({"b": [1, 2.5, true, null, "é\n\"x\"\u0001"], "a": {}, "c": []})");
  EXPECT_EQ(py_dumps(v, 2),
            "{\n  \"b\": [\n    1,\n    2.5,\n    true,\n    null,\n    \"é\\n\\\"x\\\"\\u0001\"\n  ],\n"
            "  \"a\": {},\n  \"c\": []\n}");
  EXPECT_EQ(py_dumps(Json(1.0)), "1.0");
}
