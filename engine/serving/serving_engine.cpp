#include "engine/serving/serving_engine.h"

#include <deque>
#include <exception>
#include <memory>
#include <stdexcept>

namespace agentrt::engine::serving {
namespace {

// What the loop thread hands one waiting generate() call.
struct Channel {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<TokenEvent> events;
  bool done = false;
  GenerateResult result;
  std::string error;
};

}  // namespace

ServingEngine::ServingEngine(Backend& backend, const Tokenizer& tokenizer, const SchedulerOptions& options)
    : scheduler_(backend, tokenizer, options) {
  stats_ = scheduler_.stats();
  thread_ = std::thread([this] { loop(); });
}

ServingEngine::~ServingEngine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ServingEngine::loop() {
  for (;;) {
    std::vector<std::function<void()>> commands;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !commands_.empty() || !scheduler_.idle(); });
      if (stopping_) break;
      commands.swap(commands_);
    }
    for (auto& command : commands) command();
    scheduler_.step();
    std::lock_guard lock(mutex_);
    stats_ = scheduler_.stats();
  }
  // Whoever still waits gets a cancelled result.
  std::vector<std::function<void()>> commands;
  {
    std::lock_guard lock(mutex_);
    commands.swap(commands_);
  }
  for (auto& command : commands) command();
  scheduler_.cancel_all();
}

GenerateResult ServingEngine::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                       const TokenCallback& on_token) {
  auto channel = std::make_shared<Channel>();
  auto on_event = [channel](const TokenEvent& event) {
    {
      std::lock_guard lock(channel->mutex);
      channel->events.push_back(event);
    }
    channel->ready.notify_all();
    return true;
  };
  auto on_done = [this, channel](GenerateResult&& result, const std::string& error) {
    {
      // Runs on the loop thread with the request's blocks already returned: the caller sees them back.
      std::lock_guard lock(mutex_);
      stats_ = scheduler_.stats();
    }
    {
      std::lock_guard lock(channel->mutex);
      channel->result = std::move(result);
      channel->error = error;
      channel->done = true;
    }
    channel->ready.notify_all();
  };
  Scheduler::Id id = 0;
  {
    // The loop thread owns the scheduler (it steps without holding mutex_), so the add is a command it runs
    // between steps; a refusal comes back here as the exception.
    std::exception_ptr refused;
    std::mutex added_mutex;
    std::condition_variable added;
    bool has_run = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) throw std::runtime_error("serving engine: shutting down");
      commands_.push_back([&] {
        try {
          id = scheduler_.add(std::vector<int32_t>(prompt.begin(), prompt.end()), options, on_event, on_done);
        } catch (...) {
          refused = std::current_exception();
        }
        {
          std::lock_guard g(added_mutex);
          has_run = true;
        }
        added.notify_all();
      });
    }
    wake_.notify_all();
    std::unique_lock wait(added_mutex);
    added.wait(wait, [&] { return has_run; });
    if (refused) std::rethrow_exception(refused);
  }
  bool cancel_sent = false;
  std::unique_lock lock(channel->mutex);
  for (;;) {
    channel->ready.wait(lock, [&] { return channel->done || !channel->events.empty(); });
    while (!channel->events.empty()) {
      TokenEvent event = std::move(channel->events.front());
      channel->events.pop_front();
      if (cancel_sent || !on_token) continue;
      lock.unlock();
      const bool keep_going = on_token(event);
      if (!keep_going) {
        cancel_sent = true;
        {
          std::lock_guard g(mutex_);
          commands_.push_back([this, id] { scheduler_.cancel(id); });
        }
        wake_.notify_all();
      }
      lock.lock();
    }
    if (channel->done && channel->events.empty()) break;
  }
  if (!channel->error.empty()) throw std::runtime_error("serving engine: " + channel->error);
  GenerateResult result = std::move(channel->result);
  if (cancel_sent) result.finish_reason = "cancelled";
  return result;
}

SchedulerStats ServingEngine::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace agentrt::engine::serving
