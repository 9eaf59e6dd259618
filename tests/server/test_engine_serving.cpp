// The server on our own engine with continuous batching (engine/serving): concurrent streams share forward
// passes, repeated prompts hit the prefix cache, a client leaving mid-stream gives its KV blocks back (seen
// on /metrics), and a request that can never fit in the KV cache gets a 400.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <span>
#include <thread>

#include "apps/server/engine_served_model.h"
#include "engine/logits_processor.h"
#include "engine/serving/serving_engine.h"
#include "engine/tokenizer.h"
#include "server_harness.h"
#include "tiny_model.h"

namespace agentrt::testing {
namespace {

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

// Holds every request of a group in the engine until all of them are in its batch: before the last one is
// admitted none may end (end-of-sequence and end-of-turn are masked), afterwards each ends at its next token.
// The processors run on the engine's own thread as part of its steps, so "all admitted" is a fact of the
// engine's schedule, not a guess about timing. (max_tokens stays a cap: seconds of decoding on its own.)
class AdmissionGroup {
 public:
  AdmissionGroup(int size, std::vector<int32_t> stop_ids) : size_(size), stop_ids_(std::move(stop_ids)) {}

  class Member : public engine::LogitsProcessor {
   public:
    explicit Member(AdmissionGroup& group) : group_(group) {}
    void process(std::span<float> logits) override {
      if (!admitted_) {
        admitted_ = true;
        ++group_.admitted_;
      }
      constexpr float kMasked = -std::numeric_limits<float>::infinity();
      const bool all_in = group_.admitted_ >= group_.size_;
      if (all_in) {
        // End now: only the first stop token may be chosen.
        for (size_t i = 0; i < logits.size(); ++i) {
          if (static_cast<int32_t>(i) != group_.stop_ids_.front()) logits[i] = kMasked;
        }
      } else {
        for (const int32_t id : group_.stop_ids_) {
          if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[static_cast<size_t>(id)] = kMasked;
        }
      }
    }
    void accept(int32_t) override {}

   private:
    AdmissionGroup& group_;
    bool admitted_ = false;
  };

  int admitted() const { return admitted_.load(); }

 private:
  const int size_;
  const std::vector<int32_t> stop_ids_;
  std::atomic<int> admitted_{0};
};

// The local engine behind the server, each generation held in `group` (see AdmissionGroup).
class HeldEngineBackend : public agent::LLMBackend {
 public:
  HeldEngineBackend(std::unique_ptr<agent::LocalEngineBackend> engine, AdmissionGroup& group)
      : engine_(std::move(engine)), group_(group) {}
  std::string name() const override { return engine_->name(); }
  agent::MarkerIds marker_ids() const override { return engine_->marker_ids(); }
  agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                             const agent::ChunkCallback& on_chunk) override {
    AdmissionGroup::Member member(group_);
    return engine_->generate_with(prompt, params, on_chunk, &member);
  }
  agent::LocalEngineBackend& engine() { return *engine_; }

 private:
  std::unique_ptr<agent::LocalEngineBackend> engine_;
  AdmissionGroup& group_;
};

TEST(EngineServing, ConcurrentStreamsAreBatchedAndRepeatedPromptsHitThePrefixCache) {
  constexpr int kClients = 8;
  agent::LocalEngineOptions lo;
  lo.threads = 1;
  lo.progress = false;
  auto local = std::make_unique<agent::LocalEngineBackend>(tiny_checkpoint(), lo);
  // Room for all eight at once: the scheduler reserves prompt + max_tokens positions when it admits one.
  engine::serving::SchedulerOptions so;
  so.blocks = 4096;
  local->start_serving(so);
  const auto& tok = local->tokenizer();
  std::vector<int32_t> stops{tok.eos_id()};
  if (const auto im_end = tok.special_id("<|im_end|>")) stops.push_back(*im_end);
  // The repeated request at the end is a group of one: it ends at its first token.
  AdmissionGroup group(kClients, stops);
  const engine::serving::ServingEngine* serving = local->serving();
  auto model = std::make_shared<server::ConcurrentServedModel>(
      std::make_unique<HeldEngineBackend>(std::move(local), group), "agentrt",
      [serving] { return server::serving_gauges(serving->stats()); },
      [serving] {
        const auto st = serving->stats();
        return server::EngineQueueDepth{st.waiting, st.running};
      });
  server::ServerOptions o;
  o.data_dir = fresh_dir("engine-data");
  TestServer server(model, o);
  auto metrics = [&] {
    auto c = server.client();
    auto res = c.Get("/metrics");
    return res ? res->body : std::string();
  };

  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      auto c = server.client();
      c.set_read_timeout(300, 0);
      const auto payloads = sse_payloads(post_stream(c, "/v1/chat/completions", chat(6000, true)));
      if (!payloads.empty() && payloads.back() == "[DONE]") ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, kClients);
  EXPECT_EQ(group.admitted(), kClients);
  const std::string text = metrics();
  EXPECT_GT(metric(text, "agentrt_kv_blocks_total"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_kv_blocks_used"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_requests_running"), 0) << text;
  EXPECT_EQ(metric(text, "agentrt_requests_waiting"), 0) << text;
  const double tokens = metric(text, "agentrt_completion_tokens_total");
  // Until the last request is admitted every step gives each request in the batch one counted token (the end
  // of turn is masked); the step that admits it gives seven (its own first token is the forced end, which is
  // not counted), and the last step only the others' forced ends. So tokens >= (steps - 2) + 7, where eight
  // requests run one after another would give fewer tokens than steps (each ends with a forced-end step).
  EXPECT_GE(tokens, metric(text, "agentrt_engine_steps") + kClients - 3) << text;

  // The same conversation again: its prompt's whole blocks are already cached.
  auto c = server.client();
  int status = 0;
  post_json(c, "/v1/chat/completions", chat(4, false), &status);
  EXPECT_EQ(status, 200);
  const std::string after = metrics();
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
