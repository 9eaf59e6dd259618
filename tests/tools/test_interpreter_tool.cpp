// The interpreter tool: the text the model reads (output, value, errors with line and traceback, files with
// chart summaries, cut long output), Python detection, per-session state, the registry's interpreter channel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "agent/backends/backend_scripted.h"
#include "agent/session.h"
#include "agent/tool_registry.h"
#include "sandbox/jail_support.h"
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

// ---- Python -------------------------------------------------------------------------------------------

// InternLM's own interpreter prompt (chat_format.md "Code Interpreter"; Lagent's INTERPRETER_CN), byte for
// byte: the turn a real InternLM2/2.5 checkpoint was trained on.
constexpr const char* kInternLMInterpreterEn =
    "You now have access to a Jupyter notebook environment supporting Python code execution. Just send code "
    "to python to run in this stateful environment. This feature is suitable for:\n"
    "- Data analysis or processing (such as data manipulation and graphic creation)\n"
    "- Complex calculations (such as math and physics problems)\n"
    "- Programming examples (for understanding programming concepts or language features)\n"
    "- Text processing and analysis (including text analysis and natural language processing)\n"
    "- Machine learning and data science (model training and data visualization)\n"
    "- File operations and data import (handling CSV, JSON, etc. formats)";
constexpr const char* kInternLMInterpreterZh =
    "你现在已经能够在一个有状态的 Jupyter 笔记本环境中运行 Python 代码。当你向 python 发送含有 Python "
    "代码的消息时，它将在该环境中执行。这个工具适用于多种场景，如数据分析或处理（包括数据操作、统计分析、"
    "图表绘制），复杂的计算问题（解决数学和物理难题），编程示例（理解编程概念或特性），文本处理和分析（比如"
    "文本解析和自然语言处理），机器学习和数据科学（用于展示模型训练和数据可视化），以及文件操作和数据导入（"
    "处理CSV、JSON等格式的文件）。";

InterpreterOptions python_test_options(const std::filesystem::path& workspace) {
  InterpreterOptions o = test_options(workspace);
  o.language = sandbox::Language::Python;
  o.limits.timeout = std::chrono::seconds(20);
  o.limits.memory_bytes = std::size_t{512} << 20;
  o.unsafe = !sandbox::probe_jail_support(o.worker).full();  // the basic jail where this machine has no other
  return o;
}

class PythonInterpreterToolTest : public ::testing::Test {
 protected:
  TempDir dir;
  InterpreterTool tool{python_test_options(dir.path())};
  agent::ToolResult run(const std::string& text, const std::string& language = "python") {
    return tool.run(code(text, language), context(dir.path()));
  }
};

TEST(InterpreterToolPrompt, PythonUsesInternLMsOwnPromptByteForByte) {
  TempDir dir;
  InterpreterTool tool(python_test_options(dir.path()));
  const auto en = tool.channel_prompt("en");
  ASSERT_TRUE(en.has_value());
  EXPECT_EQ(en->system_prompt, kInternLMInterpreterEn);
  EXPECT_EQ(en->fence_language, "python");
  EXPECT_EQ(en->missing_code_hint, "put the code in a ```python fenced block");
  const auto zh = tool.channel_prompt("zh");
  ASSERT_TRUE(zh.has_value());
  EXPECT_EQ(zh->system_prompt, kInternLMInterpreterZh);
  EXPECT_THAT(tool.description(), HasSubstr("Jupyter"));
  // Lua stays the default, with its own prompt.
  InterpreterTool lua(test_options(dir.path()));
  EXPECT_EQ(lua.channel_prompt("en")->fence_language, "lua");
  EXPECT_THAT(lua.channel_prompt("en")->system_prompt, HasSubstr("Lua 5.4"));
}

TEST(InterpreterToolPrompt, TheRenderedSystemTurnIsTheSpecsExactly) {
  // protocol spec §4: <|im_start|>system name=<|interpreter|>⏎{prompt}<|im_end|>⏎, rendered through the
  // registry and the session as a model sees it.
  TempDir dir;
  ToolsConfig config;
  config.workspace = dir.path();
  config.settings["interpreter"] = {{"language", "python"},
                                    {"worker", test_options(dir.path()).worker.string()}};
  agent::ToolRegistry registry;
  registry.add(make_tool("interpreter", config));
  agent::ScriptedBackend backend({"The answer is 4."});
  agent::SessionOptions so;
  so.workspace = dir.path();
  agent::Session session(backend, registry, so);
  session.run("2+2?");
  ASSERT_FALSE(backend.prompts().empty());
  EXPECT_THAT(backend.prompts()[0], HasSubstr(std::string("<|im_start|>system name=<|interpreter|>\n") +
                                              kInternLMInterpreterEn + "<|im_end|>\n"));
}

TEST(InterpreterToolSettings, LanguageAndUnsafeAreRead) {
  TempDir dir;
  const auto o =
      InterpreterOptions::from_settings(Json{{"language", "python"}, {"unsafe", true}}, dir.path());
  EXPECT_EQ(o.language, sandbox::Language::Python);
  EXPECT_TRUE(o.unsafe);
  EXPECT_EQ(InterpreterOptions::from_settings(Json::object(), dir.path()).language, sandbox::Language::Lua);
  EXPECT_THROW(InterpreterOptions::from_settings(Json{{"language", "ruby"}}, dir.path()),
               std::invalid_argument);
  EXPECT_THROW(InterpreterOptions::from_settings(Json{{"unsafe", "yes"}}, dir.path()), std::invalid_argument);
}

TEST(InterpreterToolSettings, StatusSaysTheLanguageAndTheJail) {
  TempDir dir;
  InterpreterOptions o = test_options(dir.path());
  const Json lua = interpreter_status(o);
  EXPECT_EQ(lua["language"], "lua");
  EXPECT_EQ(lua["available"], true);
  o.language = sandbox::Language::Python;
  const Json python = interpreter_status(o);
  EXPECT_EQ(python["language"], "python");
  EXPECT_EQ(python["available"], sandbox::probe_jail_support(o.worker).full());
  EXPECT_TRUE(python["jail"].contains("landlock_abi"));
  o.unsafe = true;
  EXPECT_EQ(interpreter_status(o)["available"], true);
}

TEST_F(PythonInterpreterToolTest, TheInternLMStyleCellAnswers) {
  const auto r =
      run("from sympy import divisors\n\n# Find the factors of 63\nfactors_of_63 = divisors(63)\n"
          "factors_of_63");
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "[1, 3, 7, 9, 21, 63]");
}

TEST_F(PythonInterpreterToolTest, ErrorsShowTheNotebooksTraceback) {
  const auto r = run("x = [1, 2]\nx[5]");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "Traceback (most recent call last):\n  Cell In[1], line 2, in <module>\n    x[5]\n    ~^^^\n"
            "IndexError: list index out of range");
  const auto labelled = run("local x = 1", "lua");
  EXPECT_THAT(labelled.text,
              HasSubstr("labelled lua; this interpreter runs Python 3. Use a ```python fence."));
}

TEST_F(PythonInterpreterToolTest, FiguresAreShownAsImagesWithTheirSummary) {
  const auto r = run("import matplotlib.pyplot as plt\nplt.bar(['a', 'b'], [3, 5])\nplt.title('Counts');");
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text,
            "![image](figure_1.png)\n"
            "(figure_1.png: bar chart \"Counts\": 2 bars; highest 'b' = 5, lowest 'a' = 3, total 8)");
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].path, "figure_1.png");
  EXPECT_EQ(r.files[1].path, "figure_1.svg");
  EXPECT_THAT(r.files[1].summary, HasSubstr("bar chart"));
}

TEST_F(PythonInterpreterToolTest, TimeoutsKeepTheVariables) {
  ASSERT_TRUE(run("kept = 3").ok);
  const auto r = tool.run(code("while True:\n    pass"), [&] {
    auto ctx = context(dir.path());
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
    return ctx;
  }());
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, HasSubstr("TimeoutError: the cell ran longer than"));
  EXPECT_EQ(run("kept").text, "3");
}

}  // namespace
}  // namespace agentrt::tools
