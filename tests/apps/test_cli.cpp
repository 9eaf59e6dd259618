#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "agent/schema.h"
#include "tests/apps/cli_runner.h"

using agentrt::Json;
using namespace agentrt::testing;

namespace {
const std::string kSource = AGENTRT_SOURCE_DIR;
}

TEST(Cli, HelpForEverySubcommand) {
  for (const char* sub : {"", "run", "render", "parse", "tool"}) {
    auto r = run_cli(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub << ": " << r.out;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << sub;
  }
}

TEST(Cli, UnknownSubcommandFails) {
  auto r = run_cli("frobnicate");
  EXPECT_NE(r.status, 0);
}

TEST(Cli, RenderPrintsExactBytesEndingWithGenerationPrompt) {
  const auto messages = temp_file("messages.json", R"([
    {"role": "system", "content": "You are InternLM2-Chat, a harmless AI assistant"},
    {"role": "user", "content": "Compute (3+5)*2"},
    {"role": "assistant", "content": "(3+5)*2 = 8*2 =",
     "tool_calls": [{"id": "1", "type": "function", "function": {"name": "mul", "arguments": "{\"a\": 8, \"b\": 2}"}}]},
    {"role": "tool", "tool_call_id": "1", "content": "16"}])");
  const auto tools = temp_file("tools.json", R"([{"type": "function", "function": {"name": "mul",
      "description": "Multiply", "parameters": {"type": "object", "properties": {"a": {"type": "integer"},
      "b": {"type": "integer"}}, "required": ["a", "b"]}}}])");
  auto r = run_cli("render --messages " + messages + " --tools " + tools + " --flavor lmdeploy");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out,
            "<|im_start|>system\nYou are InternLM2-Chat, a harmless AI assistant<|im_end|>\n<|im_start|>system "
            "name=<|plugin|>\n[{\"name\": \"mul\", \"description\": \"Multiply\", \"parameters\": {\"type\": \"object\", "
            "\"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"integer\"}}, \"required\": [\"a\", "
            "\"b\"]}}]<|im_end|>\n<|im_start|>user\nCompute (3+5)*2<|im_end|>\n<|im_start|>assistant\n(3+5)*2 = 8*2 "
            "=<|action_start|><|plugin|>\n{\"name\": \"mul\", \"parameters\": {\"a\": 8, \"b\": "
            "2}}<|action_end|><|im_end|>\n<|im_start|>environment\n16<|im_end|>\n<|im_start|>assistant\n");
  r = run_cli("render --messages - ", messages);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(r.out.ends_with("<|action_end|>\n<|im_end|>\n<|im_start|>environment name=<|plugin|>\n16<|im_end|>\n"
                              "<|im_start|>assistant\n"));
}

TEST(Cli, RenderReportsBadInput) {
  auto r = run_cli("render --messages /nonexistent/m.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("agentrt: error: cannot read '/nonexistent/m.json'"), std::string::npos) << r.out;
  r = run_cli("render --messages " + temp_file("bad.json", "[{\"role\": \"user\", \"content\": "));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("is not valid JSON"), std::string::npos) << r.out;
  r = run_cli("render --messages " + temp_file("badrole.json", R"([{"role": "bot", "content": "x"}])"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("messages[0]: unknown role 'bot'"), std::string::npos) << r.out;
  r = run_cli("render --flavor chatml --messages " + temp_file("ok.json", "[]"));
  EXPECT_NE(r.status, 0);
}

TEST(Cli, ParsePrintsActionsAsJson) {
  const auto input = temp_file("out.txt",
                               "I need to search.<|action_start|><|plugin|>\n{\"name\":\"duckduckgo-search\","
                               "\"parameters\":{\"input\":\"latest news today\"}}<|action_end|>"
                               "<|action_start|><|plugin|>\n{oops}<|action_end|>");
  auto r = run_cli("parse", input);
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = Json::parse(r.out);
  EXPECT_EQ(j["thought"], "I need to search.");
  ASSERT_EQ(j["actions"].size(), 2u);
  EXPECT_EQ(j["actions"][0]["status"], "valid");
  EXPECT_EQ(j["actions"][0]["name"], "duckduckgo-search");
  EXPECT_EQ(j["actions"][0]["arguments"]["input"], "latest news today");
  EXPECT_EQ(j["actions"][1]["status"], "invalid");
  EXPECT_EQ(j["actions"][1]["error"].get<std::string>().rfind("invalid json format", 0), 0u);
}

TEST(Cli, ToolRunsAndReportsErrorsWithExitZero) {
  auto r = run_cli("tool calculator '{\"expression\": \"factorial(25)\"}'");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = Json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["text"], "15511210043330985984000000");

  r = run_cli("tool calculator '{\"expression\": \"1/0\"}'");
  ASSERT_EQ(r.status, 0) << r.out;
  j = Json::parse(r.out);
  EXPECT_FALSE(j["ok"].get<bool>());

  r = run_cli("tool calculator '{\"expr\": \"1\"}'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(Json::parse(r.out)["text"].get<std::string>().find("missing required arguments: expression"),
            std::string::npos);
}

TEST(Cli, ToolRefusesWhatCannotRun) {
  auto r = run_cli("tool nosuchtool '{}'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("agentrt: error: unknown tool 'nosuchtool' (built-in tools: calculator"), std::string::npos)
      << r.out;
  r = run_cli("tool calculator 'not json'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("arguments must be a JSON object"), std::string::npos) << r.out;
}

TEST(Cli, RunWithScriptedRepliesWritesTheAnswerAndTrace) {
  const auto trace = temp_file("trace.jsonl", "");
  std::filesystem::remove(trace);
  auto r = run_cli("run --script " + kSource + "/examples/scripted/compound_interest.replies.json --tools calculator "
                   "--trace " + trace + " 'Which pays more?'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("<- 16958.814327678654"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<- [error] error at column 29: '(' is never closed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nAnswer: The first offer (4.5% compounded yearly)"), std::string::npos) << r.out;
  std::ifstream in(trace);
  std::vector<std::string> kinds;
  for (std::string line; std::getline(in, line);) kinds.push_back(Json::parse(line)["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"thought", "select", "arguments", "observation", "thought", "select",
                                             "arguments", "observation", "reflection", "select", "arguments",
                                             "observation", "answer"}));
}

TEST(Cli, RunWithThePythonInterpreterAnswersFromAnInternLMStyleCell) {
  // What InternLM2.5 writes for this question: a ```python fence, sympy, the value of the last expression.
  // (--interpreter-unsafe only matters where this machine cannot build the full jail.)
  const auto script = temp_file("divisors.json", R"(["I will compute it with sympy.<|action_start|><|interpreter|>\n```python\nfrom sympy import divisors\nsum(divisors(2024))\n```<|action_end|>\n", "The sum of the divisors of 2024 is 4320."])");
  const auto workspace = std::filesystem::path(temp_file("divisors.ws", "")).string() + ".d";
  std::filesystem::create_directories(workspace);
  auto r = run_cli("run --interpreter python --interpreter-unsafe --tools interpreter --workspace " + workspace +
                   " --script " + script + " 'What is the sum of the divisors of 2024?'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("<- 4320\n"), std::string::npos) << r.out;  // the interpreter's own value
  EXPECT_NE(r.out.find("\nAnswer: The sum of the divisors of 2024 is 4320."), std::string::npos) << r.out;
  std::filesystem::remove_all(workspace);
}

TEST(Cli, RunJsonOutput) {
  const auto script = temp_file("s.json", R"(["<|action_start|><|plugin|>{\"name\": \"calculator\", \"parameters\": {\"expression\": \"6*7\"}}<|action_end|>", "42"])");
  auto r = run_cli("run --json --script " + script + " 'six times seven'");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = Json::parse(r.out);
  EXPECT_EQ(j["answer"], "42");
  EXPECT_EQ(j["tool_calls"], 1);
  EXPECT_EQ(j["turns"], 2);
}

TEST(Cli, RunReportsBackendProblems) {
  // Without a backend flag the bundled demo model runs (tests/examples covers that); two flags are refused.
  auto r = run_cli("run --script a.json --endpoint http://127.0.0.1:9 task");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("agentrt: error: choose one backend"), std::string::npos) << r.out;
  r = run_cli("run --script /nonexistent.json task");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("/nonexistent.json"), std::string::npos) << r.out;
  const auto short_script = temp_file("short.json", R"(["<|action_start|><|plugin|>{\"name\": \"calculator\", \"parameters\": {\"expression\": \"1\"}}"])");
  r = run_cli("run --quiet --script " + short_script + " task");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("no reply left"), std::string::npos) << r.out;
  r = run_cli("run --endpoint ftp://x task");
  EXPECT_EQ(r.status, 1);
  r = run_cli("run --max-turns 0 --script " + short_script + " task");
  EXPECT_NE(r.status, 0);
}

TEST(Cli, RunOffersTheToolsOfConfiguredMcpServers) {
  const std::string server = kSource + "/tests/tools/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
  if (!std::filesystem::exists(server)) GTEST_SKIP() << "MCP reference servers not installed (scripts/setup-npm-tools)";
  const auto config = temp_file("mcp.json", R"({"mcpServers": {"everything": {"command": "node", "args": [")" +
                                                server + R"(", "stdio"]}, "broken": {"command": "/nonexistent/x"}}})");
  const auto script = temp_file("mcp-replies.json",
                                R"(["<|action_start|><|plugin|>\n{\"name\": \"everything.echo\", \"parameters\": {\"message\": \"hello over MCP\"}}<|action_end|>", "It echoed."])");
  auto r = run_cli("run --tools none --mcp-config " + config + " --script " + script + " 'echo something'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("agentrt: warning:"), std::string::npos) << r.out;  // the broken server is reported
  EXPECT_NE(r.out.find("<- Echo: hello over MCP"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Answer: It echoed."), std::string::npos) << r.out;
}
