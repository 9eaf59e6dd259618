// `agentrt bench --backend cuda` end to end on the tiny shape: the device ceilings are measured, every figure
// is there and positive, fractions of the bounds are plausible.
#include "engine/cuda/cuda_bench.h"
#include "engine/model_maker.h"
#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

class BenchTest : public GpuTest {};

TEST_F(BenchTest, ReportsDecodePrefillAndTheCeilingsOfTheSameRun) {
  CudaBenchOptions options;
  options.decode_batches = {1, 3};
  options.prefill_lengths = {16, 100};
  options.decode_context = 20;
  options.decode_steps = 4;
  options.repeats = 1;
  options.backend.max_batch = 4;
  options.backend.max_context = 1024;
  options.backend.kv_cache_tokens = 8192;
  const auto out = run_cuda_bench(preset_config("tiny"), {}, options);
  EXPECT_GT(out["copy_bandwidth_gb_s"].get<double>(), 1.0);
  EXPECT_GT(out["bf16_gemm_tflop_s"].get<double>(), 0.1);
  ASSERT_EQ(out["prefill"].size(), 2u);
  for (const auto& p : out["prefill"]) {
    EXPECT_GT(p["tokens_per_s"].get<double>(), 0);
    EXPECT_GT(p["ttft_ms"].get<double>(), 0);
    EXPECT_GT(p["fraction_of_gemm_rate"].get<double>(), 0);
    EXPECT_LT(p["fraction_of_gemm_rate"].get<double>(), 1.5);
  }
  ASSERT_EQ(out["decode"].size(), 2u);
  EXPECT_EQ(out["decode"][1]["batch"].get<int>(), 3);
  for (const auto& d : out["decode"]) {
    EXPECT_GT(d["tokens_per_s"].get<double>(), 0);
    EXPECT_GT(d["fraction_of_copy_bound"].get<double>(), 0);
    EXPECT_LT(d["fraction_of_copy_bound"].get<double>(), 1.5);
  }
  EXPECT_EQ(out["decode"][1]["graphs"].get<int>(), 2);  // batch 1 and batch 3, each captured once
  EXPECT_GT(out["gpu_memory"]["used_bytes"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
