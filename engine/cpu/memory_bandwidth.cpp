#include "engine/cpu/memory_bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace agentrt::engine::cpu {
namespace {

// Four independent integer sums: the compiler vectorises them and the loop is bound by memory, not adds.
uint64_t read_all(const uint64_t* data, std::size_t words) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  std::size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    a += data[i];
    b += data[i + 1];
    c += data[i + 2];
    d += data[i + 3];
  }
  for (; i < words; ++i) a += data[i];
  return a + b + c + d;
}

}  // namespace

BandwidthResult measure_read_bandwidth(ThreadPool& pool, std::size_t bytes, int repeats) {
  const int threads = pool.size();
  const std::size_t words = bytes / sizeof(uint64_t) / threads * threads;
  // mmap so that the memory goes straight back to the system afterwards.
  void* mapped =
      ::mmap(nullptr, words * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  auto* data = static_cast<uint64_t*>(mapped);
  const std::size_t slice = words / threads;
  // Each thread touches its own slice first, so pages sit near the thread that reads them.
  pool.run(threads, [&](int t, int) {
    for (std::size_t i = t * slice; i < (t + 1) * slice; ++i) data[i] = i;
  });
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.run(threads, [&](int t, int) { sink += read_all(data + t * slice, slice); });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / seconds);
  }
  ::munmap(mapped, words * sizeof(uint64_t));
  return {best, words * sizeof(uint64_t), threads};
}

double measure_peak_flops(ThreadPool& pool, const Kernels& kernels, int repeats) {
  constexpr long kIterations = 20'000'000;
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    std::atomic<double> flop{0};
    const auto start = std::chrono::steady_clock::now();
    pool.run(pool.size(), [&](int, int) {
      const double done = kernels.fma_flops(kIterations);
      double seen = flop.load();
      while (!flop.compare_exchange_weak(seen, seen + done)) {
      }
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, flop.load() / seconds);
  }
  return best;
}

}  // namespace agentrt::engine::cpu
