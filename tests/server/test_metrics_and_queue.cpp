// The generation queue (one generation at a time through a backend that is not concurrent), cancellation when
// a client leaves mid-stream, many concurrent streams, and /metrics (counters, queue gauges, engine gauges
// only when the engine provides them).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "server_harness.h"

namespace agentrt::testing {
namespace {

// A backend that streams `chunks` pieces of text, `delay` apart, and records how calls overlapped and how
// generations ended.
class PacedBackend : public agent::LLMBackend {
 public:
  // `rendezvous` > 1: a generation first waits until that many are running at once (30 s at most).
  PacedBackend(int chunks, std::chrono::milliseconds delay, int rendezvous = 0)
      : chunks_(chunks), delay_(delay), rendezvous_(rendezvous) {}
  std::string name() const override { return "paced"; }
  agent::Completion generate(const std::string&, const agent::GenerationParams&,
                             const agent::ChunkCallback& on_chunk) override {
    const int now = ++active_;
    int seen = max_active_.load();
    while (now > seen && !max_active_.compare_exchange_weak(seen, now)) {
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (rendezvous_ > 1 && max_active_.load() < rendezvous_ &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    agent::Completion c;
    c.finish_reason = "stop";
    for (int i = 0; i < chunks_; ++i) {
      std::this_thread::sleep_for(delay_);
      agent::TokenChunk chunk{"tok" + std::to_string(i) + " ", {}};
      c.text += chunk.text;
      ++c.completion_tokens;
      if (!on_chunk(chunk)) {
        c.finish_reason = "cancelled";
        ++cancelled_;
        break;
      }
    }
    c.prompt_tokens = 3;
    --active_;
    ++finished_;
    return c;
  }
  int max_active() const { return max_active_; }
  int cancelled() const { return cancelled_; }
  int finished() const { return finished_; }
  int completion_chunks() const { return chunks_; }

 private:
  int chunks_;
  std::chrono::milliseconds delay_;
  int rendezvous_;
  std::atomic<int> active_{0}, max_active_{0}, cancelled_{0}, finished_{0};
};

struct PacedServer {
  PacedBackend* backend;
  std::unique_ptr<TestServer> server;
  PacedServer(int chunks, std::chrono::milliseconds delay) {
    auto b = std::make_unique<PacedBackend>(chunks, delay);
    backend = b.get();
    server::ServerOptions o;
    o.data_dir = fresh_dir("paced");
    server =
        std::make_unique<TestServer>(std::make_shared<server::SerialServedModel>(std::move(b), "agentrt"), o);
  }
};

const Json kStreamRequest = Json::parse(
    R"({"model": "agentrt", "stream": true, "messages": [{"role": "user", "content": "count"}]})");

TEST(Queue, SerialModelRunsOneGenerationAtATime) {
  PacedServer s(5, std::chrono::milliseconds(4));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      auto c = s.server->client();
      const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", kStreamRequest));
      if (!payloads.empty() && payloads.back() == "[DONE]") ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(s.backend->max_active(), 1);
  EXPECT_EQ(s.backend->finished(), 8);
}

TEST(Queue, ConcurrentModelLetsGenerationsOverlap) {
  // Each generation waits (at most 30 s) until another one is running too: through a model that lets them
  // overlap they all meet, through one that does not they could not.
  auto b = std::make_unique<PacedBackend>(10, std::chrono::milliseconds(1), /*rendezvous=*/2);
  auto* backend = b.get();
  server::ServerOptions o;
  o.data_dir = fresh_dir("concurrent");
  TestServer server(std::make_shared<server::ConcurrentServedModel>(std::move(b), "agentrt"), o);
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto c = server.client();
      post_stream(c, "/v1/chat/completions", kStreamRequest);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(backend->max_active(), 1);
}

TEST(Queue, ClientLeavingMidStreamCancelsItsGeneration) {
  PacedServer s(400, std::chrono::milliseconds(5));  // two seconds if nobody stops it
  {
    auto c = s.server->client();
    int received = 0;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = kStreamRequest.dump();
    req.set_header("Content-Type", "application/json");
    // Read three pieces, then hang up.
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++received < 3; };
    auto res = c.send(req);
    EXPECT_FALSE(res);  // the client cancelled its own read
    EXPECT_GE(received, 3);
  }
  // Cancelled means the backend stopped before its 400th piece: no clock needed to tell.
  const auto t0 = std::chrono::steady_clock::now();
  while (s.backend->finished() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(s.backend->cancelled(), 1);
  auto c = s.server->client();
  const std::string text = c.Get("/metrics")->body;
  EXPECT_EQ(metric(text, "agentrt_generations_total{outcome=\"cancelled\"}"), 1) << text;
  EXPECT_EQ(metric(text, "agentrt_requests_running"), 0) << text;
}

TEST(Queue, AgentRunIsCancelledWhenItsClientLeaves) {
  PacedServer s(400, std::chrono::milliseconds(5));
  {
    auto c = s.server->client();
    int received = 0;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/agent/runs";
    req.body = Json{{"task", "count slowly"}}.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++received < 3; };
    c.send(req);
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (s.backend->finished() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(s.backend->cancelled(), 1);
  // The run is recorded as cancelled once the server has stored it.
  auto c = s.server->client();
  std::string outcome;
  for (int i = 0; i < 200 && outcome != "cancelled"; ++i) {
    const Json sessions = get_json(c, "/v1/sessions");
    if (!sessions["data"].empty()) {
      const Json session = get_json(c, "/v1/sessions/" + sessions["data"][0]["id"].get<std::string>());
      if (!session["runs"].empty()) outcome = session["runs"][0]["outcome"];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(outcome, "cancelled");
}

TEST(Queue, StoppingTheServerEndsRunningStreams) {
  PacedServer s(2000, std::chrono::milliseconds(5));  // ten seconds if nobody stops it
  std::thread client([&] {
    auto c = s.server->client();
    post_stream(c, "/v1/chat/completions", kStreamRequest);
  });
  while (s.server->model().running() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  s.server->stop();
  client.join();
  // The stream was cut, not run to its end: the backend saw the stop before its 2000th piece.
  EXPECT_EQ(s.backend->cancelled(), 1);
}

TEST(Metrics, CountsRequestsTokensAndErrors) {
  ScriptedServer s({"one two three", "four"});
  auto c = s.client();
  const Json chat = Json::parse(R"({"model": "agentrt", "messages": [{"role": "user", "content": "hi"}]})");
  post_json(c, "/v1/chat/completions", chat);
  Json streamed = chat;
  streamed["stream"] = true;
  post_stream(c, "/v1/chat/completions", streamed);
  c.Post("/v1/chat/completions", "{bad", "application/json");
  auto res = c.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = res->body;
  EXPECT_EQ(metric(text, "agentrt_http_requests_total{route=\"/v1/chat/completions\",code=\"200\"}"), 2)
      << text;
  EXPECT_EQ(metric(text, "agentrt_http_requests_total{route=\"/v1/chat/completions\",code=\"400\"}"), 1);
  EXPECT_EQ(metric(text, "agentrt_errors_total{type=\"invalid_request_error\"}"), 1);
  EXPECT_EQ(metric(text, "agentrt_generations_total{outcome=\"stop\"}"), 2);
  // "one two three" is 5 chunks of 3 bytes, "four" 2.
  EXPECT_EQ(metric(text, "agentrt_completion_tokens_total"), 7);
  EXPECT_EQ(metric(text, "agentrt_time_to_first_token_seconds_count"), 2);
  EXPECT_EQ(metric(text, "agentrt_requests_waiting"), 0);
  EXPECT_EQ(metric(text, "agentrt_requests_running"), 0);
  EXPECT_NE(text.find("# TYPE agentrt_http_requests_total counter"), std::string::npos);
  // A backend without a KV cache reports no KV gauges.
  EXPECT_EQ(text.find("kv"), std::string::npos);
}

TEST(Metrics, EngineGaugesAppearWhenTheBackendProvidesThem) {
  auto gauges = [] {
    return std::vector<server::EngineGauge>{
        {"agentrt_kv_blocks_used", "KV cache blocks in use.", 12},
        {"agentrt_prefix_cache_hit_rate", "Prefix-cache hit rate.", 0.75}};
  };
  server::ServerOptions o;
  o.data_dir = fresh_dir("gauges");
  TestServer server(
      std::make_shared<server::ConcurrentServedModel>(
          std::make_unique<agent::ScriptedBackend>(std::vector<std::string>{}), "agentrt", gauges),
      o);
  auto c = server.client();
  const std::string text = c.Get("/metrics")->body;
  EXPECT_EQ(metric(text, "agentrt_kv_blocks_used"), 12) << text;
  EXPECT_EQ(metric(text, "agentrt_prefix_cache_hit_rate"), 0.75);
  EXPECT_NE(text.find("# TYPE agentrt_kv_blocks_used gauge"), std::string::npos);
}

TEST(Queue, ManyConcurrentStreamsAllSucceed) {
  // 64 clients connecting at once: more than the listen backlog cpp-httplib sets by itself.
  std::vector<std::string> replies(128, "a reply of several chunks");
  ScriptedServer s(replies);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 64; ++i) {
    clients.emplace_back([&] {
      auto c = s.client();
      for (int k = 0; k < 2; ++k) {
        const auto payloads = sse_payloads(post_stream(
            c, "/v1/chat/completions",
            Json::parse(
                R"({"model": "agentrt", "stream": true, "messages": [{"role": "user", "content": "x"}]})")));
        std::string text;
        for (size_t j = 0; j + 1 < payloads.size(); ++j) {
          const Json ch = Json::parse(payloads[j]);
          if (!ch["choices"].empty() && ch["choices"][0]["delta"].contains("content")) {
            text += ch["choices"][0]["delta"]["content"].get<std::string>();
          }
        }
        if (text == "a reply of several chunks" && payloads.back() == "[DONE]") ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 128);
}

}  // namespace
}  // namespace agentrt::testing
