// The server's one door to a language model. Every request generates through a ServedModel, never through an
// agent::LLMBackend directly, so the server does not care whether the model behind it can run several
// generations at once:
//   - SerialServedModel wraps a backend that is not concurrent (remote, scripted, a single-sequence engine)
//   and
//     lets one generation through at a time, in arrival order, counting those waiting;
//   - ConcurrentServedModel wraps a backend that batches requests itself (a continuous-batching engine):
//   calls
//     go straight through, and the engine reports its own gauges (KV blocks in use, prefix-cache hit rate).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/llm_backend.h"

namespace agentrt::server {

// One gauge an engine exposes on /metrics, e.g. {"agentrt_kv_blocks_used", "KV cache blocks in use", 812}.
struct EngineGauge {
  std::string name;
  std::string help;
  double value = 0;
};

// Reports the engine's own state; only engines that have a KV cache provide one.
using EngineGaugeSource = std::function<std::vector<EngineGauge>()>;

// A batching engine's own queue: requests admitted into its batch (running) and those waiting for room.
struct EngineQueueDepth {
  int waiting = 0;
  int running = 0;
};
using EngineQueueSource = std::function<EngineQueueDepth()>;

class ServedModel {
 public:
  virtual ~ServedModel() = default;
  // The name clients pass as "model" and /v1/models lists.
  virtual std::string id() const = 0;
  // Thread-safe: any number of request threads may call it at once.
  virtual agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                                     const agent::ChunkCallback& on_chunk) = 0;
  virtual agent::MarkerIds marker_ids() const = 0;
  // Generations waiting for their turn, and generations running now.
  virtual int waiting() const = 0;
  virtual int running() const = 0;
  // Engine gauges for /metrics; empty when the backend has none.
  virtual std::vector<EngineGauge> engine_gauges() const { return {}; }
  // What the backend can hold a reply to (agent::LLMBackend::response_schema_support).
  virtual agent::SchemaSupport response_schema_support() { return agent::SchemaSupport::None; }
};

// One generation at a time through a backend that is not concurrent; waiting callers are served first come,
// first served (a ticket queue, so a busy stream of new requests cannot starve an old one).
class SerialServedModel : public ServedModel {
 public:
  SerialServedModel(std::unique_ptr<agent::LLMBackend> backend, std::string id);
  std::string id() const override { return id_; }
  agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                             const agent::ChunkCallback& on_chunk) override;
  agent::MarkerIds marker_ids() const override { return backend_->marker_ids(); }
  agent::SchemaSupport response_schema_support() override { return backend_->response_schema_support(); }
  int waiting() const override { return waiting_.load(); }
  int running() const override { return running_.load(); }

 private:
  std::unique_ptr<agent::LLMBackend> backend_;
  std::string id_;
  std::mutex mutex_;
  std::condition_variable turn_;
  uint64_t next_ticket_ = 0;  // guarded by mutex_
  uint64_t serving_ = 0;      // guarded by mutex_
  std::atomic<int> waiting_{0};
  std::atomic<int> running_{0};
};

// A backend that accepts concurrent generate() calls itself (a batching engine).
class ConcurrentServedModel : public ServedModel {
 public:
  // `queue`, when given, reports waiting/running from the engine; otherwise every call in flight counts as
  // running.
  ConcurrentServedModel(std::unique_ptr<agent::LLMBackend> backend, std::string id,
                        EngineGaugeSource gauges = nullptr, EngineQueueSource queue = nullptr);
  std::string id() const override { return id_; }
  agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                             const agent::ChunkCallback& on_chunk) override;
  agent::MarkerIds marker_ids() const override { return backend_->marker_ids(); }
  agent::SchemaSupport response_schema_support() override { return backend_->response_schema_support(); }
  int waiting() const override { return queue_ ? queue_().waiting : 0; }
  int running() const override { return queue_ ? queue_().running : running_.load(); }
  std::vector<EngineGauge> engine_gauges() const override;
  agent::LLMBackend& backend() { return *backend_; }

 private:
  std::unique_ptr<agent::LLMBackend> backend_;
  std::string id_;
  EngineGaugeSource gauges_;
  EngineQueueSource queue_;
  std::atomic<int> running_{0};
};

// Presents a ServedModel as an agent::LLMBackend, for agent::Session (which takes a backend).
class ServedModelBackend : public agent::LLMBackend {
 public:
  explicit ServedModelBackend(ServedModel& model) : model_(model) {}
  std::string name() const override { return model_.id(); }
  agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                             const agent::ChunkCallback& on_chunk) override {
    return model_.generate(prompt, params, on_chunk);
  }
  agent::MarkerIds marker_ids() const override { return model_.marker_ids(); }
  agent::SchemaSupport response_schema_support() override { return model_.response_schema_support(); }

 private:
  ServedModel& model_;
};

}  // namespace agentrt::server
