// A fixed set of worker threads that run one parallel loop at a time; the calling thread works too. Between
// loops the workers spin for a short while before they sleep: a decode step runs about seven loops per layer,
// and waking sleeping threads through the kernel for each cost a tenth of a fast decode step.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace agentrt::engine::cpu {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(task, thread) for task in [0, tasks), spread over the threads; returns when all are done. The
  // first exception thrown by a task is rethrown here.
  void run(int tasks, const std::function<void(int task, int thread)>& fn);

 private:
  void worker_loop(int thread);
  void work(int thread);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, int)>* job_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> busy_{0};             // workers still in the current loop
  std::atomic<uint64_t> generation_{0};  // changed (under mutex_) when a loop starts
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

}  // namespace agentrt::engine::cpu
