// `agentrt serve` as a user starts it: the real binary on a free port with a scripted backend, answering over
// HTTP, and ending cleanly on SIGTERM; bad flags end with a clear message.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>

#include "server_harness.h"

namespace agentrt::testing {
namespace {

const std::string kBinary = std::string(AGENTRT_BINARY_DIR) + "/bin/agentrt";

TEST(ServeCommand, ServesAndStopsOnSigterm) {
  const auto dir = fresh_dir("cli");
  const auto script = dir / "replies.json";
  std::ofstream(script) << R"(["Served by the binary."])";
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(out_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    execl(kBinary.c_str(), kBinary.c_str(), "serve", "--script", script.c_str(), "--port", "0", "--data-dir",
          (dir / "data").c_str(), "--api-key", "k1", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  FILE* out = fdopen(out_pipe[0], "r");
  std::array<char, 512> line{};
  ASSERT_NE(fgets(line.data(), line.size(), out), nullptr);
  std::cmatch m;
  ASSERT_TRUE(std::regex_search(line.data(), m, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) << line.data();
  httplib::Client c("127.0.0.1", std::stoi(m[1]));
  c.set_bearer_token_auth("k1");
  const Json r =
      post_json(c, "/v1/chat/completions",
                Json{{"model", "agentrt"}, {"messages", Json::parse(R"([{"role":"user","content":"hi"}])")}});
  EXPECT_EQ(r["choices"][0]["message"]["content"], "Served by the binary.") << r.dump();
  EXPECT_TRUE(std::filesystem::exists(dir / "data" / "agentrt.db"));

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(out);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ServeCommand, UnloadableModelIsAClearError) {
  // Without a backend flag serve runs the demo model; one that cannot be loaded is a clear error, not a
  // crash.
  FILE* p =
      popen(("AGENTRT_DEMO_MODEL=/nonexistent-demo-model " + kBinary + " serve --port 0 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 512> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int raw = pclose(p);
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  EXPECT_EQ(out.rfind("agentrt: error: ", 0), 0u) << out;
  EXPECT_NE(out.find("/nonexistent-demo-model"), std::string::npos) << out;
}

}  // namespace
}  // namespace agentrt::testing
