#include "engine/cpu/memory_bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <new>
#include <vector>

namespace agentrt::engine::cpu {
namespace {

constexpr std::size_t kHugePage = 2u << 20;

}  // namespace

BandwidthResult measure_read_bandwidth(ThreadPool& pool, const Kernels& kernels, std::size_t bytes,
                                       int repeats) {
  const int threads = pool.size();
  // Each thread's slice a whole number of huge pages.
  const std::size_t slice = std::max<std::size_t>(kHugePage, bytes / threads / kHugePage * kHugePage);
  const std::size_t total = slice * threads;
  // mmap (so that the memory goes straight back to the system afterwards), over-allocated to align it to a
  // huge page.
  void* mapped =
      ::mmap(nullptr, total + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  auto* data = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(mapped) + kHugePage - 1) /
                                                kHugePage * kHugePage);
  const bool huge = ::madvise(data, total, MADV_HUGEPAGE) == 0;
  // Each thread touches its own slice first, so pages sit near the thread that reads them.
  pool.run(threads, [&](int t, int) {
    auto* words = reinterpret_cast<uint64_t*>(data + t * slice);
    for (std::size_t i = 0; i < slice / sizeof(uint64_t); ++i) words[i] = i;
  });
  std::atomic<uint64_t> sink{0};
  // Odd rounds read each slice as one stream, even rounds as eight streams interleaved 16 KiB at a time (as
  // a product reading eight weight rows at once does); the hardware prefetchers favour one or the other.
  constexpr std::size_t kPiece = 16u << 10;
  constexpr int kStreams = 8;
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const bool interleaved = r % 2 == 1;
    const auto start = std::chrono::steady_clock::now();
    pool.run(threads, [&](int t, int) {
      const unsigned char* base = data + t * slice;
      if (!interleaved) {
        sink += kernels.read_bytes(base, slice);
        return;
      }
      const std::size_t part = slice / kStreams;
      uint64_t local = 0;
      for (std::size_t off = 0; off < part; off += kPiece) {
        for (int s = 0; s < kStreams; ++s) local += kernels.read_bytes(base + s * part + off, kPiece);
      }
      sink += local;
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(static_cast<double>(total) / seconds);
  }
  std::sort(rates.begin(), rates.end());
  ::munmap(mapped, total + kHugePage);
  std::string method = std::string(kernels.name) + " loads, " + std::to_string(threads) + " threads" +
                       (huge ? ", huge pages" : "");
  return {rates.back(), rates[rates.size() / 2], rates.front(), total, threads, method};
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
