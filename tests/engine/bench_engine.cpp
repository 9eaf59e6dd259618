// Kernel benchmarks, fast path next to its baseline (the portable kernels): a weight-matrix product of a 1.8B
// layer's shape (2048 x 2048 bf16) for decode (1 token, memory bound) and prefill (64 tokens, compute bound),
// one thread each. Counters: GFLOP/s and weight bytes read per second.
#include <benchmark/benchmark.h>

#include <vector>

#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {
namespace {

constexpr int kRows = 2048;
constexpr int kCols = 2048;

void BM_Matmul(benchmark::State& state, bool fast) {
  const Kernels* kernels = fast ? avx2_kernels() : &portable_kernels();
  if (kernels == nullptr) {
    state.SkipWithError("no AVX2 on this processor");
    return;
  }
  const int m = static_cast<int>(state.range(0));
  std::vector<uint16_t> w(static_cast<std::size_t>(kRows) * kCols);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = f32_to_bf16(static_cast<float>(i % 97) / 97.0f - 0.5f);
  std::vector<float> x(static_cast<std::size_t>(m) * kCols, 0.25f), y(static_cast<std::size_t>(m) * kRows);
  const WeightMatrix matrix{w.data(), DType::BF16, kRows, kCols};
  for (auto _ : state) {
    kernels->matmul(matrix, x.data(), m, kCols, y.data(), kRows, 0, kRows);
    benchmark::DoNotOptimize(y.data());
  }
  const double flop = 2.0 * m * kRows * kCols;
  state.counters["GFLOP/s"] = benchmark::Counter(flop / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weight_GB/s"] =
      benchmark::Counter(2.0 * kRows * kCols / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_Matmul, portable, false)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Matmul, avx2, true)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace agentrt::engine::cpu

BENCHMARK_MAIN();
