// The interpreter tool: the text the model reads (output, value, errors with line and traceback, files with
// chart summaries, cut long output), Python detection, per-session state, the registry's interpreter channel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "agent/tool_registry.h"
#include "tools/interpreter_tool.h"
#include "tools/tools.h"

namespace agentrt::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "agentrt-interp-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

InterpreterOptions test_options(const std::filesystem::path& workspace) {
  InterpreterOptions o;
  o.worker = std::filesystem::path(AGENTRT_BINARY_DIR) / "bin" / "agentrt-sandbox";
  o.workspace = workspace;
  o.limits.timeout = std::chrono::milliseconds(500);
  o.limits.memory_bytes = std::size_t{64} << 20;
  return o;
}

agent::ToolContext context(const std::filesystem::path& workspace, std::string session = "s1") {
  agent::ToolContext ctx;
  ctx.workspace = workspace;
  ctx.session_id = std::move(session);
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  return ctx;
}

Json code(const std::string& text, const std::string& language = "lua") {
  return Json{{"code", text}, {"language", language}};
}

class InterpreterToolTest : public ::testing::Test {
 protected:
  TempDir dir;
  InterpreterTool tool{test_options(dir.path())};
  agent::ToolResult run(const std::string& text, const std::string& session = "s1") {
    return tool.run(code(text), context(dir.path(), session));
  }
};

TEST_F(InterpreterToolTest, DescribesItselfAsTheInterpreterChannel) {
  EXPECT_EQ(tool.name(), "interpreter");
  EXPECT_EQ(tool.channel(), agent::Channel::Interpreter);
  EXPECT_EQ(tool.parameters()["required"], Json::array({"code"}));
  EXPECT_THAT(tool.description(), HasSubstr("Lua 5.4"));
}

TEST_F(InterpreterToolTest, OutputThenValue) {
  const auto r = run("print('hello')\nx = 6 * 7\nx");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "hello\n42");
  EXPECT_EQ(r.data["value"], "42");
}

TEST_F(InterpreterToolTest, StatePersistsPerSessionAndSessionsAreIsolated) {
  EXPECT_TRUE(run("total = 10").ok);
  EXPECT_EQ(run("total + 1").text, "11");
  EXPECT_THAT(run("total + 1", "other").text, HasSubstr("attempt to perform arithmetic on a nil value"));
  tool.reset("s1");
  EXPECT_THAT(run("total + 1").text, HasSubstr("nil value"));
}

TEST_F(InterpreterToolTest, ErrorsNameTheLineAndShowTheTraceback) {
  const auto r = run("local t = {}\nlocal function f()\n  return t.a.b\nend\nlocal v = f()\nprint(v)");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, StartsWith("Error (line 3): cell:3: attempt to index a nil value (field 'a')"));
  EXPECT_THAT(r.text, HasSubstr("Traceback:\ncell:3: in"));
  EXPECT_EQ(r.data["failure"], "runtime");
}

TEST_F(InterpreterToolTest, SyntaxErrorOfCodeLabelledAnotherLanguageGetsAHint) {
  const auto r = tool.run(code("x = = 1", "javascript"), context(dir.path()));
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, HasSubstr("line 1"));
  EXPECT_THAT(r.text, HasSubstr("labelled javascript; this interpreter runs Lua 5.4"));
}

TEST_F(InterpreterToolTest, PythonLookingCodeIsRefusedWithAHint) {
  for (const char* py : {"import pandas as pd\ndf = pd.read_csv('x.csv')", "def f(x):\n    return x * 2",
                         "for i in range(3):\n    print(i)", "from math import sqrt", "print(f\"{x}\")"}) {
    const auto r = tool.run(code(py, "python"), context(dir.path()));
    EXPECT_FALSE(r.ok) << py;
    EXPECT_THAT(r.text, HasSubstr("This interpreter runs Lua 5.4, not Python")) << py;
  }
  // Lua that merely sits in a python fence still runs.
  EXPECT_TRUE(tool.run(code("return 1 + 1", "python"), context(dir.path())).ok);
  EXPECT_FALSE(looks_like_python("local t = {a = 1}\nfor k, v in pairs(t) do print(k) end\n-- note: done"));
  EXPECT_FALSE(looks_like_python("if x then\n  print('a:')\nend"));
}

TEST_F(InterpreterToolTest, ChartFilesComeBackWithTheirSummaries) {
  const auto r = run("chart.bar{labels = {'a', 'b', 'c'}, values = {3, 9, 4}, title = 'Counts'}");
  ASSERT_TRUE(r.ok) << r.text;
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].path, "chart_1.svg");
  EXPECT_EQ(r.files[0].mime, "image/svg+xml");
  EXPECT_THAT(r.files[0].summary, HasSubstr("highest 'b' = 9"));
  EXPECT_THAT(r.text, HasSubstr("Files created:\n- chart_1.svg: bar chart \"Counts\": 3 bars"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "chart_1.svg"));
}

TEST_F(InterpreterToolTest, LongOutputIsCutWithAMarker) {
  const auto r = run("for i = 1, 5000 do print('row', i) end");
  EXPECT_TRUE(r.ok);
  EXPECT_LE(r.text.size(), 6100u);
  EXPECT_THAT(r.text, HasSubstr("characters cut]"));
  EXPECT_THAT(r.text, StartsWith("row\t1\n"));
  EXPECT_THAT(r.text, HasSubstr("row\t5000"));
}

TEST_F(InterpreterToolTest, TimeoutsAndKillsAreReported) {
  EXPECT_THAT(run("while true do end").text, HasSubstr("execution timed out after 500 ms"));
  const auto killed = run("return string.rep('a', 20000):find('.-.-.-.-.-.-.-.-b')");
  EXPECT_FALSE(killed.ok);
  EXPECT_THAT(killed.text, HasSubstr("execution timed out; the interpreter state was reset"));
  EXPECT_EQ(run("1 + 1").text, "2");
}

TEST_F(InterpreterToolTest, BadArgumentsAndAMissingWorkerAreClearFailures) {
  EXPECT_THAT(tool.run(Json::object(), context(dir.path())).text, HasSubstr("needs the code"));
  EXPECT_THAT(tool.run(code("   "), context(dir.path())).text, HasSubstr("empty"));
  InterpreterOptions o = test_options(dir.path());
  o.worker = "/nonexistent/agentrt-sandbox";
  InterpreterTool broken(o);
  const auto r = broken.run(code("return 1"), context(dir.path()));
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, HasSubstr("The code interpreter is unavailable"));
  EXPECT_THROW(InterpreterOptions::from_settings(Json{{"timeout_ms", -5}}, dir.path()),
               std::invalid_argument);
}

TEST_F(InterpreterToolTest, RunsThroughTheRegistryAsAnInterpreterAction) {
  ToolsConfig config;
  config.workspace = dir.path();
  config.settings["interpreter"] = {{"worker", test_options(dir.path()).worker.string()},
                                    {"timeout_ms", 2000}};
  agent::ToolRegistry registry;
  registry.add(make_tool("interpreter", config));
  EXPECT_TRUE(registry.has_interpreter());
  agent::Action action;
  action.channel = agent::Channel::Interpreter;
  action.name = std::string(agent::kInterpreterToolName);
  action.code = "local d = csv.parse('x,y\\n1,2\\n3,5')\nreturn stats.corr(d, 'x', 'y')";
  action.language = "lua";
  const auto r = registry.dispatch(action, context(dir.path()));
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "1.0");
}

}  // namespace
}  // namespace agentrt::tools
