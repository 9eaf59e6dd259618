// Measures the machine's bounds with all threads: memory read bandwidth (decode reads every weight byte once
// per token) and peak multiply-add rate (prefill is compute bound), to report speeds as fractions of them.
// The bandwidth is measured the most favourable way we know (every thread streaming its own slice with the
// widest loads of the best kernel variant, from transparent huge pages, as one stream and as eight
// interleaved streams per thread, best of many rounds), so that it is a bound no engine beats, not an
// estimate an engine can exceed. On a shared machine the bandwidth a process gets varies from second to
// second; the spread of the rounds is reported with the best.
#pragma once

#include <cstddef>
#include <string>

#include "engine/cpu/kernels.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {

struct BandwidthResult {
  double bytes_per_second = 0;  // best of the repeats
  double median_bytes_per_second = 0;
  double worst_bytes_per_second = 0;
  std::size_t buffer_bytes = 0;
  int threads = 0;
  std::string method;  // "avx512_bf16 loads, 2 threads, huge pages"
};

// Reads a buffer of `bytes` (much larger than the caches) `repeats` times, split across the pool's threads,
// with `kernels.read_bytes`.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, const Kernels& kernels = best_kernels(),
                                       std::size_t bytes = 512ull << 20, int repeats = 12);

// Peak floating-point rate of `kernels` on all the pool's threads (best of `repeats`), FLOP per second.
double measure_peak_flops(ThreadPool& pool, const Kernels& kernels, int repeats = 3);

}  // namespace agentrt::engine::cpu
