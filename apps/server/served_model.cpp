#include "apps/server/served_model.h"

namespace agentrt::server {
namespace {

// Keeps a counter right when the generation throws.
class CounterGuard {
 public:
  explicit CounterGuard(std::atomic<int>& counter) : counter_(counter) { ++counter_; }
  ~CounterGuard() { --counter_; }
  CounterGuard(const CounterGuard&) = delete;
  CounterGuard& operator=(const CounterGuard&) = delete;

 private:
  std::atomic<int>& counter_;
};

}  // namespace

SerialServedModel::SerialServedModel(std::unique_ptr<agent::LLMBackend> backend, std::string id)
    : backend_(std::move(backend)), id_(std::move(id)) {}

agent::Completion SerialServedModel::generate(const std::string& prompt,
                                              const agent::GenerationParams& params,
                                              const agent::ChunkCallback& on_chunk) {
  std::unique_lock lock(mutex_);
  const uint64_t ticket = next_ticket_++;
  {
    CounterGuard queued(waiting_);
    turn_.wait(lock, [&] { return serving_ == ticket; });
  }
  lock.unlock();
  // The next ticket's turn comes when this generation ends, however it ends.
  struct Release {
    SerialServedModel& self;
    ~Release() {
      {
        std::lock_guard g(self.mutex_);
        ++self.serving_;
      }
      self.turn_.notify_all();
    }
  } release{*this};
  CounterGuard active(running_);
  return backend_->generate(prompt, params, on_chunk);
}

ConcurrentServedModel::ConcurrentServedModel(std::unique_ptr<agent::LLMBackend> backend, std::string id,
                                             EngineGaugeSource gauges, EngineQueueSource queue)
    : backend_(std::move(backend)),
      id_(std::move(id)),
      gauges_(std::move(gauges)),
      queue_(std::move(queue)) {}

agent::Completion ConcurrentServedModel::generate(const std::string& prompt,
                                                  const agent::GenerationParams& params,
                                                  const agent::ChunkCallback& on_chunk) {
  CounterGuard active(running_);
  return backend_->generate(prompt, params, on_chunk);
}

std::vector<EngineGauge> ConcurrentServedModel::engine_gauges() const {
  return gauges_ ? gauges_() : std::vector<EngineGauge>{};
}

}  // namespace agentrt::server
