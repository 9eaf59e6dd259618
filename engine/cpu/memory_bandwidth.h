// Measures the machine's memory read bandwidth with all threads, to turn decode speed into a fraction of the
// bound it sets (every weight byte is read once per decoded token).
#pragma once

#include <cstddef>

#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {

struct BandwidthResult {
  double bytes_per_second = 0;  // best of the repeats
  std::size_t buffer_bytes = 0;
  int threads = 0;
};

// Reads a buffer of `bytes` (much larger than the caches) `repeats` times, split across the pool's threads.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, std::size_t bytes = 512ull << 20, int repeats = 5);

}  // namespace agentrt::engine::cpu
