// The language and resource levels of the sandbox, in process (no worker): allow-list, hook, caps, cells.
#include <gtest/gtest.h>

#include "sandbox/interpreter.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

using testing::TempWorkspace;
using testing::test_limits;

class InterpreterTest : public ::testing::Test {
 protected:
  TempWorkspace ws;
  Interpreter lua{test_limits(), ws.path()};
  CellResult run(std::string_view code) { return lua.run_cell(code); }
};

TEST_F(InterpreterTest, LastExpressionValueAndGlobalsPersistAcrossCells) {
  EXPECT_EQ(run("1 + 1").value, "2");
  EXPECT_TRUE(run("x = 20").ok);
  EXPECT_EQ(run("x * 2").value, "40");
  EXPECT_EQ(run("local y = 3\ny + x").value, "23");
  EXPECT_EQ(run("return 'a', 2, 1.5").value, "a\t2\t1.5");
  EXPECT_EQ(run("{1, 2, b = 'x', a = {true}}").value, "{1, 2, a = {true}, b = \"x\"}");
  EXPECT_EQ(run("nil").value, "");
}

TEST_F(InterpreterTest, PrintIsCapturedAndCutWithAMarker) {
  auto r = run("print('a', 1, nil, true)");
  EXPECT_EQ(r.output, "a\t1\tnil\ttrue\n");
  // 100,000 prints take ~50 ms alone and several times the default 250 ms on a loaded machine: this test is
  // about the output cap, so the time limit is taken out of it.
  r = lua.run_cell("for i = 1, 100000 do print('line', i) end", std::chrono::seconds(30));
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.output_truncated);
  EXPECT_NE(r.output.find("[output truncated:"), std::string::npos);
  EXPECT_LE(r.output.size(), test_limits().max_output_bytes + 100);
}

TEST_F(InterpreterTest, SyntaxErrorsCarryTheLine) {
  const auto r = run("x = 1\nif x then\n  y = = 2\nend");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, Failure::Syntax);
  EXPECT_EQ(r.error_line, 3);
  EXPECT_NE(r.error.find("cell:3:"), std::string::npos) << r.error;
}

TEST_F(InterpreterTest, RuntimeErrorsCarryLineAndTraceback) {
  const auto r = run("local function f(t)\n  return t.x.y\nend\nlocal v = f({})\nprint(v)");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, Failure::Runtime);
  EXPECT_EQ(r.error_line, 2);
  EXPECT_NE(r.error.find("attempt to index a nil value"), std::string::npos) << r.error;
  EXPECT_NE(r.traceback.find("cell:2: in"), std::string::npos) << r.traceback;
  EXPECT_NE(r.traceback.find("cell:4: in main chunk"), std::string::npos) << r.traceback;
}

TEST_F(InterpreterTest, OnlyAllowListedGlobalsExist) {
  const auto r =
      run("local names = {}\nfor k in pairs(_G) do names[#names + 1] = k end\ntable.sort(names)\n"
          "return table.concat(names, ' ')");
  EXPECT_EQ(
      r.value,
      "_G _VERSION assert chart collectgarbage coroutine csv df error fs getmetatable ipairs json load math "
      "next os pairs pcall print rawequal rawget rawlen rawset select setmetatable stats string table "
      "tonumber tostring type utf8 xpcall");
  const auto os = run(
      "local n = {}\nfor k in pairs(os) do n[#n + 1] = k end\ntable.sort(n)\nreturn table.concat(n, ' ')");
  EXPECT_EQ(os.value, "clock date difftime time");
  EXPECT_EQ(run("string.dump").value, "");
}

TEST_F(InterpreterTest, HookStopsLoopsThatPcallTriesToSwallowAndKeepsTheState) {
  EXPECT_TRUE(run("kept = 'still here'").ok);
  const auto r = lua.run_cell("while true do pcall(function() while true do end end) end",
                              std::chrono::milliseconds(100));
  EXPECT_EQ(r.failure, Failure::Timeout);
  EXPECT_EQ(r.error, "execution timed out after 100 ms");
  EXPECT_GE(r.duration_ms, 100);
  EXPECT_LT(r.duration_ms, 1000);
  EXPECT_EQ(run("kept").value, "still here");
}

TEST_F(InterpreterTest, HookReachesCoroutinesCreatedInEarlierCells) {
  EXPECT_TRUE(run("co = coroutine.wrap(function() coroutine.yield(1) while true do end end)\nco()").ok);
  const auto r = lua.run_cell("co()", std::chrono::milliseconds(100));
  EXPECT_EQ(r.failure, Failure::Timeout);
}

TEST(InterpreterLimits, InstructionCapStopsACell) {
  TempWorkspace ws;
  Limits l = test_limits();
  l.max_instructions = 1'000'000;
  l.timeout = std::chrono::seconds(30);
  Interpreter lua(l, ws.path());
  const auto r = lua.run_cell("local n = 0\nwhile true do n = n + 1 end");
  EXPECT_EQ(r.failure, Failure::Instructions);
  EXPECT_NE(r.error.find("instruction limit exceeded"), std::string::npos);
  EXPECT_EQ(lua.run_cell("return 7").value, "7");
}

TEST_F(InterpreterTest, MemoryCapIsEnforcedAndTheSessionRecovers) {
  const auto r = lua.run_cell("local t = {}\nfor i = 1, 1e9 do t[i] = {i} end", std::chrono::seconds(20));
  EXPECT_EQ(r.failure, Failure::Memory);
  EXPECT_NE(r.error.find("memory limit exceeded"), std::string::npos);
  EXPECT_LT(lua.memory_used(), std::size_t{4} << 20);
  EXPECT_EQ(run("return 1 + 2").value, "3");
}

TEST_F(InterpreterTest, StringRepIsCappedBeforeAllocating) {
  const auto r = run("return ('x'):rep(1e12)");
  EXPECT_EQ(r.failure, Failure::Runtime);
  EXPECT_NE(r.error.find("sandbox allows strings"), std::string::npos);
}

TEST_F(InterpreterTest, LoadAcceptsOnlySourceText) {
  EXPECT_EQ(run("return load('return 1 + 1')()").value, "2");
  EXPECT_EQ(run("return select(2, load('\\27Lua'))").value, "attempt to load a binary chunk (mode is 't')");
  EXPECT_NE(run("return load(function() end)").error.find("only source text"), std::string::npos);
  EXPECT_EQ(run("return load('return x', 'chunk', 't', {x = 5})()").value, "5");
}

TEST_F(InterpreterTest, SetmetatableRefusesFinalizers) {
  EXPECT_NE(run("setmetatable({}, {__gc = print})").error.find("__gc metamethods are not allowed"),
            std::string::npos);
  EXPECT_EQ(run("return getmetatable(setmetatable({}, {__index = {a = 1}})).__index.a").value, "1");
}

TEST_F(InterpreterTest, LibrariesAreReadOnlyButUsable) {
  EXPECT_NE(run("math.pi = 3").error.find("read-only"), std::string::npos);
  EXPECT_NE(run("rawset(table, 'insert', nil)").error.find("read-only"), std::string::npos);
  EXPECT_EQ(run("return math.pi > 3.14").value, "true");
  EXPECT_EQ(run("return ('abc'):upper()").value, "ABC");
  EXPECT_EQ(run("local n = 0\nfor k, v in pairs(math) do n = n + 1 end\nreturn n > 20").value, "true");
  // A user may shadow a library name in their own globals; the library itself is untouched.
  EXPECT_TRUE(run("string = nil").ok);
  EXPECT_EQ(run("return ('x'):rep(3)").value, "xxx");
}

TEST_F(InterpreterTest, ResetDropsEveryVariable) {
  EXPECT_TRUE(run("secret = 42").ok);
  lua.reset();
  EXPECT_EQ(run("secret").value, "");
  EXPECT_EQ(run("return 1").value, "1");
}

TEST_F(InterpreterTest, SourceSizeIsCapped) {
  const std::string big(test_limits().max_source_bytes + 1, ' ');
  const auto r = run(big);
  EXPECT_EQ(r.failure, Failure::Rejected);
  EXPECT_NE(r.error.find("too long"), std::string::npos);
}

TEST_F(InterpreterTest, LibraryFailuresAreLuaErrorsThatPcallCatches) {
  const auto r =
      run("local ok, err = pcall(function()\n  local text = fs.read('missing.txt')\n  return "
          "text\nend)\nreturn ok, err");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.value, "false\tcell:2: no such file: missing.txt");
}

TEST_F(InterpreterTest, FilesWrittenAreReported) {
  const auto r = run("fs.write('out/notes.txt', 'hello')\nreturn fs.read('out/notes.txt')");
  EXPECT_EQ(r.value, "hello");
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].path, "out/notes.txt");
  EXPECT_EQ(r.files[0].mime, "text/plain");
  EXPECT_EQ(r.files[0].bytes, 5u);
  EXPECT_TRUE(std::filesystem::exists(ws.path() / "out" / "notes.txt"));
  EXPECT_TRUE(run("return fs.exists('out/notes.txt')").value == "true");
}

TEST_F(InterpreterTest, SymbolicLinksOutOfTheWorkspaceAreRefused) {
  std::filesystem::create_directory_symlink("/etc", ws.path() / "etc_link");
  const auto r = run("return fs.read('etc_link/hostname')");
  EXPECT_EQ(r.failure, Failure::Runtime);
  EXPECT_NE(r.error.find("leaves the workspace"), std::string::npos) << r.error;
}

TEST_F(InterpreterTest, JsonRoundTrip) {
  EXPECT_EQ(run("return json.encode({b = 1, a = {1, 2.5, 'x', true}, c = json.null})").value,
            R"({"a":[1,2.5,"x",true],"b":1,"c":null})");
  EXPECT_EQ(run("local t = json.decode('{\"k\": [1, {\"z\": null}], \"s\": \"\\\\u00e9\"}')\n"
                "return t.k[1], t.k[2].z == json.null, t.s")
                .value,
            "1\ttrue\t\xC3\xA9");
  EXPECT_NE(run("json.decode('{bad')").error.find("json.decode"), std::string::npos);
  EXPECT_NE(run("json.encode({f = print})").error.find("cannot encode a function"), std::string::npos);
}

}  // namespace
}  // namespace agentrt::sandbox
