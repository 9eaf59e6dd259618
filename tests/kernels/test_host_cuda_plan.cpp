// The CUDA backend's host-side planning: which models the kernels take, the division of GPU memory and the
// refusal of a model that does not fit (before allocating), decode launch shapes; and the clear error without
// a GPU.
#include <gtest/gtest.h>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cuda_plan.h"
#include "engine/model.h"
#include "engine/model_maker.h"

namespace agentrt::engine::cuda {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;

TEST(CudaPlan, WeightBytesAreBf16MatricesAndFp32Norms) {
  for (const char* preset : {"tiny", "1_8b", "7b", "20b"}) {
    const ModelConfig c = preset_config(preset);
    const int64_t norms = static_cast<int64_t>(c.hidden_size) * (2 * c.num_hidden_layers + 1);
    EXPECT_EQ(weight_bytes_bf16(c), static_cast<uint64_t>(2 * (c.parameter_count() - norms) + 4 * norms))
        << preset;
  }
}

TEST(CudaPlan, QuantizedWeightsArePackedValuesScalesAndAnInt8Head) {
  const ModelConfig c = preset_config("7b");
  const double bf16 = static_cast<double>(weight_bytes_bf16(c));
  // int8: a byte per weight and a scale per row; int4: half a byte and 8 bytes per group of 128; both keep
  // the bf16 embedding table and an int8 copy of the head.
  EXPECT_NEAR(static_cast<double>(weight_bytes(c, GpuWeights::Int8)) / bf16, 0.55, 0.03);
  EXPECT_NEAR(static_cast<double>(weight_bytes(c, GpuWeights::Int4)) / bf16, 0.32, 0.03);
  EXPECT_EQ(weight_bytes(c, GpuWeights::Bf16), weight_bytes_bf16(c));
  EXPECT_EQ(linear_bytes(8, 256, GpuWeights::Int4), 8u * 128 + 8 * 2 * 8);
  EXPECT_EQ(linear_bytes(8, 256, GpuWeights::Int8), 8u * 256 + 8 * 4);
  // Dequantization scratch: the largest layer matrix (w1 and w3 stacked), none for bf16.
  EXPECT_EQ(dequant_scratch_elements(c, GpuWeights::Int4), 2ull * c.intermediate_size * c.hidden_size);
  EXPECT_EQ(dequant_scratch_elements(c, GpuWeights::Bf16), 0u);
  CudaBackendOptions o;
  o.weights = GpuWeights::Int4;
  const MemoryPlan plan = plan_memory(c, o, 79 * kGiB, "H100");
  EXPECT_EQ(plan.weight_bytes, weight_bytes(c, GpuWeights::Int4));
  EXPECT_GT(plan.kv_blocks, plan_memory(c, CudaBackendOptions{}, 79 * kGiB, "H100").kv_blocks);
}

TEST(CudaPlan, Int4NeedsWidthsThatAreMultiplesOfTheGroup) {
  CudaBackendOptions o;
  o.weights = GpuWeights::Int4;
  try {
    validate_for_cuda(preset_config("tiny"), o);  // hidden 64
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of 128"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(validate_for_cuda(preset_config("1_8b"), o));
  o.weights = GpuWeights::Int8;
  EXPECT_NO_THROW(validate_for_cuda(preset_config("tiny"), o));
}

TEST(CudaPlan, SevenBFitsOnAnH100AndTheRestOfTheMemoryGoesToTheKvCache) {
  const ModelConfig c = preset_config("7b");
  CudaBackendOptions o;
  const uint64_t free_bytes = 79 * kGiB;
  const MemoryPlan plan = plan_memory(c, o, free_bytes, "H100");
  EXPECT_GT(plan.weight_bytes, 14 * kGiB);
  EXPECT_LT(plan.weight_bytes, 16 * kGiB);
  // K and V, 32 layers x 8 KV heads x 128 dims x 2 bytes, per position.
  EXPECT_EQ(plan.kv_block_bytes, 2ull * 32 * 8 * 128 * 2 * o.kv_block_size);
  EXPECT_LE(plan.total(), free_bytes);
  // 0.9 x (79 GiB - 14.5 GiB weights - 1.5 GiB activations - reserve) / 128 KiB per position.
  EXPECT_GT(plan.kv_blocks * o.kv_block_size, 450000);
  EXPECT_EQ(plan.max_context, 4 * c.max_position_embeddings);
}

TEST(CudaPlan, AModelThatDoesNotFitIsRefusedWithWhatItNeeds) {
  const ModelConfig c = preset_config("20b");
  try {
    plan_memory(c, CudaBackendOptions{}, 24 * kGiB, "a 24 GiB GPU");
    FAIL() << "expected ModelDoesNotFit";
  } catch (const ModelDoesNotFit& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("does not fit on a 24 GiB GPU"), std::string::npos) << message;
    EXPECT_NE(message.find("weights 3"), std::string::npos) << message;  // ~37 GiB of bf16 weights
    EXPECT_NE(message.find("24.00 GiB are free"), std::string::npos) << message;
  }
  // An explicit KV pool larger than what is left is refused too.
  CudaBackendOptions o;
  o.kv_cache_tokens = 10'000'000;
  EXPECT_THROW(plan_memory(preset_config("7b"), o, 79 * kGiB, "H100"), ModelDoesNotFit);
  o.kv_cache_tokens = 1000;
  const MemoryPlan plan = plan_memory(preset_config("7b"), o, 79 * kGiB, "H100");
  EXPECT_EQ(plan.kv_blocks, (1000 + o.kv_block_size - 1) / o.kv_block_size);
  EXPECT_EQ(plan.max_context,
            plan.kv_blocks * o.kv_block_size);  // one sequence can use the whole pool at most
}

TEST(CudaPlan, ShapesAndOptionsTheKernelsCannotTakeAreNamed) {
  ModelConfig c = preset_config("7b");
  c.hidden_size = 96 * 32;  // head dim 96
  try {
    validate_for_cuda(c, CudaBackendOptions{});
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("head dim 96"), std::string::npos) << e.what();
  }
  c = preset_config("7b");
  c.num_key_value_heads = 2;  // 16 query heads per KV head
  EXPECT_THROW(validate_for_cuda(c, CudaBackendOptions{}), std::invalid_argument);
  c = preset_config("tiny");
  EXPECT_NO_THROW(validate_for_cuda(c, CudaBackendOptions{}));
  CudaBackendOptions o;
  o.kv_block_size = 0;
  EXPECT_THROW(validate_for_cuda(c, o), std::invalid_argument);
  o = CudaBackendOptions{};
  o.kv_memory_fraction = 1.5;
  EXPECT_THROW(validate_for_cuda(c, o), std::invalid_argument);
  o = CudaBackendOptions{};
  o.max_batch = 0;
  EXPECT_THROW(validate_for_cuda(c, o), std::invalid_argument);
}

TEST(CudaPlan, DecodeSplitsFillTheGpuWithoutSplittingShortSequences) {
  EXPECT_EQ(plan_decode_splits(1, 8, 132, 4096),
            kMaxDecodeSplits);                         // batch 1: 8 blocks of work alone is too few
  EXPECT_EQ(plan_decode_splits(64, 8, 132, 4096), 1);  // 512 blocks already fill 132 SMs
  EXPECT_EQ(plan_decode_splits(8, 8, 132, 4096), 5);   // ceil(264 / 64)
  EXPECT_EQ(plan_decode_splits(1, 8, 132, 8), 2);      // 8 cache blocks: at least 4 per split
  EXPECT_EQ(plan_decode_splits(1, 8, 132, 3), 1);
  EXPECT_THROW(plan_decode_splits(0, 8, 132, 10), std::invalid_argument);
}

TEST(CudaBackendWithoutGpu, SaysSoClearly) {
  if (device_count() > 0) GTEST_SKIP() << "a GPU is visible: covered by cuda_gpu_tests";
  try {
    CudaBackend backend(preset_config("tiny"), 1);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA GPU"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace agentrt::engine::cuda
