// The server on our own engine with continuous batching (engine/serving): concurrent streams share forward
// passes, repeated prompts hit the prefix cache, a client leaving mid-stream gives its KV blocks back (seen
// on /metrics), and a request that can never fit in the KV cache gets a 400.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "apps/server/engine_served_model.h"
#include "engine/model_maker.h"
#include "server_harness.h"

namespace agentrt::testing {
namespace {

const std::filesystem::path& tiny_checkpoint() {
  static const std::filesystem::path dir = [] {
    auto d = fresh_dir("tiny-model");
    engine::MakeModelOptions o;
    o.config = engine::preset_config("tiny");
    o.seed = 1;
    engine::make_model(d, o);
    return d;
  }();
  return dir;
}

struct EngineServer {
  std::unique_ptr<TestServer> server;
  explicit EngineServer(engine::serving::SchedulerOptions so = {}) {
    agent::LocalEngineOptions lo;
    lo.threads = 1;
    lo.progress = false;
    auto model = server::serve_local_engine(
        std::make_unique<agent::LocalEngineBackend>(tiny_checkpoint(), lo), "agentrt", so);
    server::ServerOptions o;
    o.data_dir = fresh_dir("engine-data");
    server = std::make_unique<TestServer>(model, o);
  }
  std::string metrics() {
    auto c = server->client();
    auto res = c.Get("/metrics");
    return res ? res->body : std::string();
  }
};

Json chat(int max_tokens, bool stream, const std::string& content = "count") {
  return Json{{"model", "agentrt"},
              {"stream", stream},
              {"max_tokens", max_tokens},
              {"temperature", 0},
              {"messages", Json::array({Json{{"role", "user"}, {"content", content}}})}};
}

TEST(EngineServing, ConcurrentStreamsAreBatchedAndRepeatedPromptsHitThePrefixCache) {
  EngineServer s;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      auto c = s.server->client();
      const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", chat(24, true)));
      if (!payloads.empty() && payloads.back() == "[DONE]") ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 8);
  const std::string text = s.metrics();
  EXPECT_GT(metric(text, "agentrt_kv_blocks_total"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_kv_blocks_used"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_requests_running"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_requests_waiting"), 0) << text;
  const double tokens = metric(text, "agentrt_completion_tokens_total");
  // Eight requests decoded side by side: far fewer forward passes than tokens.
  EXPECT_LT(metric(text, "agentrt_engine_steps"), tokens) << text;

  // The same conversation again: its prompt's whole blocks are already cached.
  auto c = s.server->client();
  int status = 0;
  post_json(c, "/v1/chat/completions", chat(4, false), &status);
  EXPECT_EQ(status, 200);
  const std::string after = s.metrics();
  EXPECT_GT(metric(after, "agentrt_prefix_cache_hit_tokens"), 0) << after;
  EXPECT_GT(metric(after, "agentrt_prefix_cache_hit_rate"), 0) << after;
}

TEST(EngineServing, ClientLeavingMidStreamCancelsAndReturnsItsBlocks) {
  EngineServer s;
  {
    auto c = s.server->client();
    int received = 0;
    double used_while_streaming = -1;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    // Long enough (seconds, attention grows with the length) that the hang-up is always seen before the end.
    req.body = chat(12000, true).dump();
    req.set_header("Content-Type", "application/json");
    // Hang up once the stream's blocks show as used on /metrics (the first bytes may go out before the
    // scheduler's first step has published them, so one early look can read 0 on a slow, sanitized build).
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      ++received;
      used_while_streaming = std::max(used_while_streaming, metric(s.metrics(), "agentrt_kv_blocks_used"));
      return used_while_streaming <= 0 && received < 500;
    };
    EXPECT_FALSE(c.send(req));
    EXPECT_GT(used_while_streaming, 0);
  }
  std::string text;
  const auto t0 = std::chrono::steady_clock::now();
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = s.metrics();
  } while (metric(text, "agentrt_generations_total{outcome=\"cancelled\"}") != 1 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  EXPECT_EQ(metric(text, "agentrt_generations_total{outcome=\"cancelled\"}"), 1) << text;
  EXPECT_EQ(metric(text, "agentrt_kv_blocks_used"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_requests_running"), 0) << text;
  EXPECT_LT(metric(text, "agentrt_completion_tokens_total"), 12000) << text;
}

TEST(EngineServing, ARequestThatCanNeverFitIsRefusedWithA400) {
  engine::serving::SchedulerOptions so;
  so.blocks = 8;  // 128 positions
  EngineServer s(so);
  auto c = s.server->client();
  int status = 0;
  const Json answer = post_json(c, "/v1/chat/completions", chat(500, false), &status);
  EXPECT_EQ(status, 400) << answer.dump();
  EXPECT_NE(answer["error"]["message"].get<std::string>().find("can never fit in the KV cache"),
            std::string::npos)
      << answer.dump();
  // A request that fits still runs.
  post_json(c, "/v1/chat/completions", chat(8, false), &status);
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace agentrt::testing
