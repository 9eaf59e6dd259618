// Measures the machine's bounds with all threads: memory read bandwidth (decode reads every weight byte once
// per token) and peak multiply-add rate (prefill is compute bound), to report speeds as fractions of them.
#pragma once

#include <cstddef>

#include "engine/cpu/kernels.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {

struct BandwidthResult {
  double bytes_per_second = 0;  // best of the repeats
  std::size_t buffer_bytes = 0;
  int threads = 0;
};

// Reads a buffer of `bytes` (much larger than the caches) `repeats` times, split across the pool's threads.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, std::size_t bytes = 512ull << 20, int repeats = 5);

// Peak floating-point rate of `kernels` on all the pool's threads (best of `repeats`), FLOP per second.
double measure_peak_flops(ThreadPool& pool, const Kernels& kernels, int repeats = 3);

}  // namespace agentrt::engine::cpu
