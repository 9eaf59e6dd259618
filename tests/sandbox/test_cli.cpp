// `agentrt sandbox run FILE.lua`: JSON on stdout, exit 0 also when the Lua code fails, 1 when it cannot run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace agentrt::sandbox {
namespace {

struct CliRun {
  int status = -1;
  std::string out;
};

CliRun agentrt(const std::string& args) {
  const std::string command =
      (std::filesystem::path(AGENTRT_BINARY_DIR) / "bin" / "agentrt").string() + " " + args + " 2>/dev/null";
  CliRun r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(SandboxCli, PrintsTheResultAsJsonAndExitsZeroWhenTheCodeFails) {
  testing::TempWorkspace ws;
  const auto file = ws.path() / "script.lua";
  std::ofstream(file) << "print('hi')\nfs.write('out.txt', 'x')\nerror('boom')\n";
  const CliRun r =
      agentrt("sandbox run " + file.string() + " --workspace " + ws.path().string() + " --timeout-ms 2000");
  EXPECT_EQ(r.status, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["failure"], "runtime");
  EXPECT_EQ(j["error"], "cell:3: boom");
  EXPECT_EQ(j["error_line"], 3);
  EXPECT_EQ(j["output"], "hi\n");
  EXPECT_EQ(j["files"][0]["path"], "out.txt");
  EXPECT_TRUE(std::filesystem::exists(ws.path() / "out.txt"));
}

TEST(SandboxCli, TimeoutAndMemoryFlagsApply) {
  testing::TempWorkspace ws;
  const auto loop = ws.path() / "loop.lua";
  std::ofstream(loop) << "while true do end\n";
  CliRun r =
      agentrt("sandbox run " + loop.string() + " --workspace " + ws.path().string() + " --timeout-ms 100");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["error"], "execution timed out after 100 ms");
  const auto bomb = ws.path() / "bomb.lua";
  std::ofstream(bomb) << "local t = {}\nfor i = 1, 1e9 do t[i] = {i} end\n";
  r = agentrt("sandbox run " + bomb.string() + " --workspace " + ws.path().string() + " --memory-mb 16");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["error"],
            "memory limit exceeded: the session may use at most 16 MB");
}

TEST(SandboxCli, MissingFileIsAnError) {
  EXPECT_EQ(agentrt("sandbox run /nonexistent/file.lua").status, 1);
}

}  // namespace
}  // namespace agentrt::sandbox
