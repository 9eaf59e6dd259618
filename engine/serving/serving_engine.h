// A Scheduler on its own thread, for callers on many threads (the server's request threads): generate()
// blocks its caller, hands it its tokens as they come (on the caller's thread, so a slow client never slows
// the step loop), and cancels the request when the callback says stop.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/serving/scheduler.h"

namespace agentrt::engine::serving {

class ServingEngine {
 public:
  // Throws std::invalid_argument as Scheduler does.
  ServingEngine(Backend& backend, const Tokenizer& tokenizer, const SchedulerOptions& options);
  // Cancels what is still queued or running and joins the step loop.
  ~ServingEngine();
  ServingEngine(const ServingEngine&) = delete;
  ServingEngine& operator=(const ServingEngine&) = delete;

  // Thread-safe. Throws std::invalid_argument for a request the scheduler refuses, std::runtime_error when
  // the engine fails during the request. on_token returning false cancels it (finish_reason "cancelled").
  // options.logits_processor, if any, is called on the engine's thread while this call waits.
  GenerateResult generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                          const TokenCallback& on_token = {});
  // The scheduler's counters as of the end of the last step.
  SchedulerStats stats() const;

 private:
  void loop();

  Scheduler scheduler_;  // touched only by the loop thread, and by generate() under mutex_ to add
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::function<void()>> commands_;  // run by the loop before its next step; guarded by mutex_
  SchedulerStats stats_;                         // guarded by mutex_
  bool stopping_ = false;                        // guarded by mutex_
  std::thread thread_;
};

}  // namespace agentrt::engine::serving
