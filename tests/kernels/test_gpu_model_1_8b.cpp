// The 1.8B shape (24 layers, hidden 2048, GQA 16/8, vocabulary 92544) on the GPU against the CPU backend:
// logits at every position of a 300-token prompt, from a random checkpoint made for the test (3.6 GB of
// bf16).
#include <iostream>

#include "engine/cpu/cpu_backend.h"
#include "tests/engine/test_support.h"
#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

class LargeModelTest : public GpuTest {};

TEST_F(LargeModelTest, OneEightBShapeLogitsMatchTheCpuAtEveryPositionOf300Tokens) {
  MakeModelOptions made;
  made.config = preset_config("1_8b");
  made.seed = 7;
  std::shared_ptr<Checkpoint> checkpoint = Checkpoint::open(engine::testing::make_test_model("1_8b", made));
  cpu::CpuBackend cpu_backend(checkpoint);
  CudaBackendOptions options;
  options.max_batch = 8;
  options.prefill_chunk = 512;
  options.kv_cache_tokens = 4096;
  options.min_kv_tokens = 1024;
  CudaBackend gpu_backend(checkpoint, options);
  const int vocab = checkpoint->config().vocab_size;
  std::vector<int32_t> ids{1};
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> dist(3, vocab - 1);
  while (ids.size() < 300) ids.push_back(dist(rng));
  std::vector<float> cpu_logits(ids.size() * vocab), gpu_logits(ids.size() * vocab);
  auto cpu_cache = cpu_backend.new_cache();
  auto gpu_cache = gpu_backend.new_cache();
  cpu_backend.prefill(*cpu_cache, ids, LogitsFor::All, cpu_logits);
  gpu_backend.prefill(*gpu_cache, ids, LogitsFor::All, gpu_logits);
  const WorstRow worst = worst_row_error(gpu_logits, cpu_logits, vocab);
  RecordProperty("worst_relative_logit_error", std::to_string(worst.error));
  std::cout << "worst relative logit error " << worst.error << " at position " << worst.row << "\n";
  EXPECT_LT(worst.error, 2e-2) << "position " << worst.row;  // measured 0.0095 (H100), twice that allowed
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
