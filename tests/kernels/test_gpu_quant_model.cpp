// Quantized weights in the whole model on the GPU (W8A16 / W4A16 layers, int8 head) against the CPU backend
// holding the same integers (both quantize with the same round-to-nearest code): prefill logits at every
// position (the dequantize + cuBLASLt path, the head as GEMVs), batch-1 and batched decode (the GEMV
// kernels); an AWQ checkpoint as published gives exactly the weights of quantizing its dense source at load.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "engine/cpu/cpu_backend.h"
#include "engine/quantized_writer.h"
#include "tests/engine/test_support.h"
#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

// A small model whose every matrix width is a multiple of the int4 group (128).
const std::filesystem::path& small_model() {
  static const std::filesystem::path dir = [] {
    MakeModelOptions made;
    made.config = preset_config("tiny");
    made.config.hidden_size = 256;
    made.config.intermediate_size = 512;
    made.config.num_attention_heads = 4;  // head dim 64
    made.config.num_key_value_heads = 2;
    made.seed = 5;
    return engine::testing::make_test_model("quant-small", made);
  }();
  return dir;
}

CudaBackendOptions gpu_options(GpuWeights weights) {
  CudaBackendOptions o;
  o.weights = weights;
  o.prefill_chunk = 64;  // a 200-token prompt takes four passes, each above the GEMV batch limit
  o.max_batch = 8;
  o.max_context = 1024;
  o.kv_cache_tokens = 8192;
  o.kv_block_size = 16;
  return o;
}

std::vector<int32_t> prompt(int length, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(3, vocab - 1);
  std::vector<int32_t> ids{1};
  while (static_cast<int>(ids.size()) < length) ids.push_back(dist(rng));
  return ids;
}

int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

class QuantModelTest : public GpuTest, public ::testing::WithParamInterface<GpuWeights> {};

TEST_P(QuantModelTest, PrefillAndDecodeLogitsMatchTheCpuBackendOnTheSameIntegers) {
  const GpuWeights format = GetParam();
  std::shared_ptr<Checkpoint> checkpoint = Checkpoint::open(small_model());
  cpu::CpuBackendOptions cpu_options;
  cpu_options.weights = format == GpuWeights::Int8 ? cpu::WeightFormat::Int8 : cpu::WeightFormat::Int4;
  cpu_options.prefill_activations = cpu::PrefillActivations::F32;
  cpu::CpuBackend cpu_backend(checkpoint, cpu_options);
  CudaBackend gpu_backend(checkpoint, gpu_options(format));
  EXPECT_NE(gpu_backend.name().find(gpu_weights_name(format)), std::string::npos) << gpu_backend.name();
  const int vocab = checkpoint->config().vocab_size;

  const auto ids = prompt(200, vocab, 9);
  std::vector<float> cpu_logits(ids.size() * vocab), gpu_logits(ids.size() * vocab);
  auto cpu_cache = cpu_backend.new_cache();
  auto gpu_cache = gpu_backend.new_cache();
  cpu_backend.prefill(*cpu_cache, ids, LogitsFor::All, cpu_logits);
  gpu_backend.prefill(*gpu_cache, ids, LogitsFor::All, gpu_logits);
  const WorstRow worst = worst_row_error(gpu_logits, cpu_logits, vocab);
  std::cout << gpu_weights_name(format) << " prefill: worst relative logit error " << worst.error
            << " at position " << worst.row << "\n";
  EXPECT_LT(worst.error, 3e-2) << "position " << worst.row;

  // Batch-1 decode (the quantized GEMVs, SwiGLU unfused), greedy on the CPU's choice.
  std::vector<float> cpu_row(vocab), gpu_row(vocab);
  int32_t token = argmax(std::span(cpu_logits).last(vocab));
  double worst_decode = 0;
  for (int step = 0; step < 24; ++step) {
    KvCache* cpu_batch[] = {cpu_cache.get()};
    KvCache* gpu_batch[] = {gpu_cache.get()};
    cpu_backend.decode(cpu_batch, std::span(&token, 1), cpu_row);
    gpu_backend.decode(gpu_batch, std::span(&token, 1), gpu_row);
    worst_decode = std::max(worst_decode, relative_error(gpu_row, cpu_row));
    token = argmax(cpu_row);
  }
  std::cout << gpu_weights_name(format) << " decode: worst relative logit error " << worst_decode << "\n";
  // The CPU's integer decode kernels also quantize the activations (groups of 128, int8).
  EXPECT_LT(worst_decode, 5e-2);
}

TEST_P(QuantModelTest, BatchedDecodeEqualsEachSequenceAlone) {
  const GpuWeights format = GetParam();
  std::shared_ptr<Checkpoint> checkpoint = Checkpoint::open(small_model());
  CudaBackend gpu_backend(checkpoint, gpu_options(format));
  const int vocab = checkpoint->config().vocab_size;
  constexpr int kSequences = 5;
  std::vector<std::unique_ptr<KvCache>> alone, batched;
  std::vector<int32_t> tokens;
  std::vector<float> logits(static_cast<std::size_t>(kSequences) * vocab);
  for (int s = 0; s < kSequences; ++s) {
    const auto ids = prompt(20 + 7 * s, vocab, 100 + s);
    alone.push_back(gpu_backend.new_cache());
    batched.push_back(gpu_backend.new_cache());
    gpu_backend.prefill(*alone.back(), ids, LogitsFor::Last, std::span(logits).first(vocab));
    gpu_backend.prefill(*batched.back(), ids, LogitsFor::Last, std::span(logits).first(vocab));
    tokens.push_back(argmax(std::span(logits).first(vocab)));
  }
  std::vector<KvCache*> batch;
  for (auto& c : batched) batch.push_back(c.get());
  for (int step = 0; step < 4; ++step) {  // eager, captured, then replayed graphs
    gpu_backend.decode(batch, tokens, logits);
    for (int s = 0; s < kSequences; ++s) {
      std::vector<float> one(vocab);
      KvCache* single[] = {alone[s].get()};
      gpu_backend.decode(single, std::span(&tokens[s], 1), one);
      const std::vector<float> row(logits.begin() + s * vocab, logits.begin() + (s + 1) * vocab);
      EXPECT_LT(relative_error(row, one), 1e-3) << "step " << step << " sequence " << s;
    }
    for (int s = 0; s < kSequences; ++s) tokens[s] = argmax(std::span(logits).subspan(s * vocab, vocab));
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, QuantModelTest, ::testing::Values(GpuWeights::Int8, GpuWeights::Int4),
                         [](const auto& info) { return std::string(gpu_weights_name(info.param)); });

class QuantCheckpointTest : public GpuTest {};

TEST_F(QuantCheckpointTest, AnAwqCheckpointLoadsAsPublishedWithTheWeightsOfQuantizingAtLoad) {
  std::shared_ptr<Checkpoint> dense = Checkpoint::open(small_model());
  const auto awq_dir = engine::testing::temp_dir("quant-small-awq") / "model";
  write_quantized_checkpoint(*dense, awq_dir, QuantizeOptions{});
  std::shared_ptr<Checkpoint> awq = Checkpoint::open(awq_dir);
  CudaBackend from_awq(awq, gpu_options(GpuWeights::Bf16));  // the checkpoint's own format: int4
  CudaBackend at_load(dense, gpu_options(GpuWeights::Int4));
  EXPECT_NE(from_awq.name().find("int4"), std::string::npos) << from_awq.name();
  const int vocab = dense->config().vocab_size;
  const auto ids = prompt(90, vocab, 21);
  std::vector<float> a(ids.size() * vocab), b(ids.size() * vocab);
  auto ca = from_awq.new_cache();
  auto cb = at_load.new_cache();
  from_awq.prefill(*ca, ids, LogitsFor::All, a);
  at_load.prefill(*cb, ids, LogitsFor::All, b);
  EXPECT_LT(worst_row_error(a, b, vocab).error, 1e-6);
  // The other format is refused, naming the checkpoint's.
  try {
    CudaBackend refused(awq, gpu_options(GpuWeights::Int8));
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("loads as int4 only"), std::string::npos) << e.what();
  }
}

TEST_F(QuantCheckpointTest, RandomQuantizedWeightsOfTheSevenBShapeRunAndUseAThirdOfTheMemory) {
  // The benchmark's path: no checkpoint, int4 layers and int8 head made on the host.
  CudaBackendOptions o;
  o.weights = GpuWeights::Int4;
  o.max_batch = 16;
  o.prefill_chunk = 512;
  o.kv_cache_tokens = 8192;
  CudaBackend backend(preset_config("7b"), 3, o);
  const uint64_t bf16_bytes = weight_bytes_bf16(backend.config());
  EXPECT_LT(backend.memory_plan().weight_bytes, bf16_bytes * 4 / 10);
  const int vocab = backend.config().vocab_size;
  std::vector<float> logits(static_cast<std::size_t>(vocab) * 12);
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<KvCache*> batch;
  std::vector<int32_t> tokens;
  for (int s = 0; s < 12; ++s) {  // 12 sequences: the decode step goes through dequantization + cuBLASLt
    caches.push_back(backend.new_cache());
    batch.push_back(caches.back().get());
    backend.prefill(*caches.back(), prompt(600, vocab, s), LogitsFor::Last, std::span(logits).first(vocab));
    tokens.push_back(argmax(std::span(logits).first(vocab)));
  }
  backend.decode(batch, tokens, logits);
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
