// `agentrt serve` as a user starts it: the real binary on a free port with a scripted backend, answering over
// HTTP, and ending cleanly on SIGTERM; its tools (MCP servers', the model folder's own list) and backend
// flags the same as `run`'s; bad flags end with a clear message.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>
#include <tuple>
#include <vector>

#include "server_harness.h"
#include "tests/apps/cli_runner.h"

namespace agentrt::testing {
namespace {

const std::string kBinary = std::string(AGENTRT_BINARY_DIR) + "/bin/agentrt";

// `agentrt serve ARGS...` started as a child process on a free port; stopped with SIGTERM when destroyed.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    args.insert(args.begin(), {kBinary, "serve", "--port", "0"});
    int out_pipe[2];
    if (pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out_pipe[1], STDOUT_FILENO);
      dup2(out_pipe[1], STDERR_FILENO);
      close(out_pipe[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(kBinary.c_str(), argv.data());
      _exit(127);
    }
    close(out_pipe[1]);
    out_ = fdopen(out_pipe[0], "r");
    // The first line says where it listens; anything else before it (a warning) is kept for the message.
    std::array<char, 512> line{};
    std::cmatch m;
    while (fgets(line.data(), line.size(), out_) != nullptr) {
      first_lines_ += line.data();
      if (std::regex_search(line.data(), m, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) {
        port_ = std::stoi(m[1]);
        break;
      }
    }
  }
  ~ServeProcess() { stop(); }
  // The exit status after SIGTERM (-1 when it did not exit normally).
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    int raw = 0;
    waitpid(pid_, &raw, 0);
    pid_ = 0;
    fclose(out_);
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return status_;
  }
  int port() const { return port_; }  // 0 when it never said where it listens
  const std::string& first_lines() const { return first_lines_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  pid_t pid_ = 0;
  FILE* out_ = nullptr;
  int port_ = 0;
  int status_ = -1;
  std::string first_lines_;
};

TEST(ServeCommand, ServesAndStopsOnSigterm) {
  const auto dir = fresh_dir("cli");
  const auto script = dir / "replies.json";
  std::ofstream(script) << R"(["Served by the binary."])";
  ServeProcess serve({"--script", script.string(), "--data-dir", (dir / "data").string(), "--api-key", "k1"});
  ASSERT_NE(serve.port(), 0) << serve.first_lines();
  httplib::Client c = serve.client();
  c.set_bearer_token_auth("k1");
  const Json r =
      post_json(c, "/v1/chat/completions",
                Json{{"model", "agentrt"}, {"messages", Json::parse(R"([{"role":"user","content":"hi"}])")}});
  EXPECT_EQ(r["choices"][0]["message"]["content"], "Served by the binary.") << r.dump();
  EXPECT_TRUE(std::filesystem::exists(dir / "data" / "agentrt.db"));
  EXPECT_EQ(serve.stop(), 0);
}

TEST(ServeCommand, OffersTheToolsOfConfiguredMcpServersToAgentRuns) {
  const std::string everything =
      std::string(AGENTRT_SOURCE_DIR) +
      "/tests/tools/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
  if (!std::filesystem::exists(everything) || std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "the MCP reference servers are not installed (scripts/setup-npm-tools): " << everything;
  }
  const auto dir = fresh_dir("mcp");
  std::ofstream(dir / "mcp.json")
      << Json{{"mcpServers", {{"everything", {{"command", "node"}, {"args", {everything, "stdio"}}}}}}}
             .dump();
  std::ofstream(dir / "replies.json") << Json::array(
      {"Echoing.<|action_start|><|plugin|>\n{\"name\": \"everything.echo\", \"parameters\": {\"message\": "
       "\"from the server\"}}<|action_end|>",
       "It said it back."});
  ServeProcess serve({"--script", (dir / "replies.json").string(), "--data-dir", (dir / "data").string(),
                      "--tools", "calculator", "--mcp-config", (dir / "mcp.json").string()});
  ASSERT_NE(serve.port(), 0) << serve.first_lines();
  httplib::Client c = serve.client();
  int status = 0;
  const Json run =
      post_json(c, "/v1/agent/runs", Json{{"task", "Echo something"}, {"stream", false}}, &status);
  ASSERT_EQ(status, 200) << run.dump();
  EXPECT_EQ(run["answer"], "It said it back.");
  bool echoed = false;
  for (const auto& e : run["trace"]) {
    if (e["kind"] == "observation" && e["tool"] == "everything.echo") {
      EXPECT_TRUE(e["ok"].get<bool>()) << e.dump();
      EXPECT_EQ(e["text"], "Echo: from the server");
      echoed = true;
    }
  }
  EXPECT_TRUE(echoed) << run.dump();

  // A run may ask for the MCP tool by name; a tool the server does not offer is a 400 naming what it offers.
  const Json bad =
      post_json(c, "/v1/agent/runs", Json{{"task", "x"}, {"stream", false}, {"tools", {"http"}}}, &status);
  EXPECT_EQ(status, 400) << bad.dump();
  const std::string message = bad["error"]["message"];
  EXPECT_NE(message.find("unknown tool 'http'"), std::string::npos) << message;
  EXPECT_NE(message.find("calculator, everything.echo"), std::string::npos) << message;
}

// A stand-in OpenAI-compatible server that answers every completion with "ok" and records what it was sent.
class RecordingEndpoint {
 public:
  RecordingEndpoint() {
    server_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const Json body = Json::parse(req.body, nullptr, false);
      {
        std::lock_guard lock(mutex_);
        models_.push_back(body.is_object() ? body.value("model", "") : "");
        keys_.push_back(req.get_header_value("Authorization"));
        prompts_.push_back(body.is_object() ? body.value("prompt", Json()) : Json());
      }
      const Json chunk{{"choices", {{{"index", 0}, {"text", "ok"}, {"finish_reason", "stop"}}}}};
      if (body.is_object() && body.value("stream", false)) {
        res.set_content("data: " + chunk.dump() + "\n\ndata: [DONE]\n\n", "text/event-stream");
      } else {
        res.set_content(chunk.dump(), "application/json");
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~RecordingEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The model and Authorization header of the last request.
  std::pair<std::string, std::string> last() {
    std::lock_guard lock(mutex_);
    if (models_.empty()) return {};
    return {models_.back(), keys_.back()};
  }
  Json last_prompt() {
    std::lock_guard lock(mutex_);
    return prompts_.empty() ? Json() : prompts_.back();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<std::string> models_, keys_;
  std::vector<Json> prompts_;
};

TEST(ServeCommand, SpellsTheRemoteBackendsFlagsLikeRun) {
  RecordingEndpoint endpoint;
  const auto dir = fresh_dir("flags");
  const Json chat{{"model", "agentrt"}, {"messages", Json::parse(R"([{"role":"user","content":"hi"}])")}};
  // serve: --endpoint-model / --endpoint-api-key, and --model-name as the other spelling of the first.
  for (const auto& [model_flag, key_flag, n] : {std::tuple{"--endpoint-model", "--endpoint-api-key", 1},
                                                std::tuple{"--model-name", "--endpoint-api-key", 2}}) {
    const std::string model = "served-" + std::to_string(n), key = "key-" + std::to_string(n);
    ServeProcess serve({"--endpoint", endpoint.url(), model_flag, model, key_flag, key, "--data-dir",
                        (dir / ("data" + std::to_string(n))).string()});
    ASSERT_NE(serve.port(), 0) << serve.first_lines();
    httplib::Client c = serve.client();
    const Json r = post_json(c, "/v1/chat/completions", chat);
    EXPECT_EQ(r["choices"][0]["message"]["content"], "ok") << r.dump();
    EXPECT_EQ(endpoint.last(), (std::pair<std::string, std::string>{model, "Bearer " + key})) << model_flag;
  }
  // run: the same spellings, and its older --model-name / --api-key.
  for (const auto& [model_flag, key_flag, n] : {std::tuple{"--endpoint-model", "--endpoint-api-key", 3},
                                                std::tuple{"--model-name", "--api-key", 4}}) {
    const std::string model = "run-" + std::to_string(n), key = "key-" + std::to_string(n);
    const std::string cmd = kBinary + " run --tools none --quiet --endpoint " + endpoint.url() + " " +
                            model_flag + " " + model + " " + key_flag + " " + key + " hello 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::array<char, 512> buf{};
    std::string out;
    size_t got;
    while ((got = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), got);
    EXPECT_EQ(WEXITSTATUS(pclose(p)), 0) << out;
    EXPECT_NE(out.find("ok"), std::string::npos) << out;
    EXPECT_EQ(endpoint.last(), (std::pair<std::string, std::string>{model, "Bearer " + key})) << model_flag;
  }
}

TEST(ServeCommand, WithTheModelsTokenizerPromptsGoAsTokenIds) {
  RecordingEndpoint endpoint;
  const auto dir = fresh_dir("tokenizer");
  const std::string demo = std::string(AGENTRT_SOURCE_DIR) + "/models/demo";
  ServeProcess serve({"--endpoint", endpoint.url(), "--endpoint-model", "m", "--tokenizer", demo,
                      "--data-dir", (dir / "data").string()});
  ASSERT_NE(serve.port(), 0) << serve.first_lines();
  httplib::Client c = serve.client();
  const Json chat{{"model", "agentrt"}, {"messages", Json::parse(R"([{"role":"user","content":"hi"}])")}};
  EXPECT_EQ(post_json(c, "/v1/chat/completions", chat)["choices"][0]["message"]["content"], "ok");
  const Json prompt = endpoint.last_prompt();
  ASSERT_TRUE(prompt.is_array()) << prompt.dump();
  EXPECT_EQ(prompt[0], 1);  // <s>, then <|im_start|> of the demo vocabulary
  EXPECT_EQ(prompt[1], 8);
  // The flag belongs to --endpoint.
  const auto wrong = run_shell(kBinary + " run --tokenizer '" + demo + "' --script /dev/null hi 2>&1");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.out.find("--tokenizer names the tokenizer of the model behind --endpoint"),
            std::string::npos)
      << wrong.out;
}

TEST(ServeCommand, AgentRunsOfferTheModelFoldersOwnToolList) {
  // The demo model's agentrt.json names the tools it was trained with; serve offers those, as run does.
  const auto dir = fresh_dir("trained");
  ServeProcess serve({"--data-dir", (dir / "data").string(), "--kv-cache-mib", "16"});
  ASSERT_NE(serve.port(), 0) << serve.first_lines();
  httplib::Client c = serve.client();
  int status = 0;
  const Json bad = post_json(c, "/v1/agent/runs",
                             Json{{"task", "x"}, {"stream", false}, {"tools", {"open_url"}}}, &status);
  EXPECT_EQ(status, 400) << bad.dump();
  const std::string message = bad["error"]["message"];
  EXPECT_NE(message.find("tools this server offers: calculator, search, http, interpreter"),
            std::string::npos)
      << message;
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
