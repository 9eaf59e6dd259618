#include "engine/cuda/cuda_plan.h"

#include <algorithm>
#include <stdexcept>

#include "engine/cuda/cuda_error.h"
#include "kernels/kernels.h"

namespace agentrt::engine::cuda {
namespace {

constexpr uint64_t kMiB = 1024ull * 1024ull;
constexpr uint64_t kGemmWorkspace = 32 * kMiB;
constexpr uint64_t kReserve = 512 * kMiB;

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("CUDA backend: " + message);
}

}  // namespace

const char* gpu_weights_name(GpuWeights weights) {
  switch (weights) {
    case GpuWeights::Bf16:
      return "bf16";
    case GpuWeights::Int8:
      return "int8";
    case GpuWeights::Int4:
      return "int4";
  }
  return "?";
}

void validate_for_cuda(const ModelConfig& c, const CudaBackendOptions& o) {
  require(c.hidden_size > 0 && c.num_attention_heads > 0 && c.num_key_value_heads > 0 &&
              c.num_hidden_layers > 0 && c.intermediate_size > 0 && c.vocab_size > 0,
          "the model config has a zero size");
  require(c.num_attention_heads % c.num_key_value_heads == 0,
          "num_attention_heads must be a multiple of num_key_value_heads");
  require(c.hidden_size % c.num_attention_heads == 0,
          "hidden_size must be a multiple of num_attention_heads");
  require(kernels::attention_head_dim_supported(c.head_dim()),
          "head dim " + std::to_string(c.head_dim()) +
              " is not one the attention kernels are built for (16, 32, 64, 128)");
  require(c.group_size() <= kernels::kMaxDecodeGroup,
          std::to_string(c.group_size()) + " query heads per KV head; the decode kernel takes at most " +
              std::to_string(kernels::kMaxDecodeGroup));
  require(c.hidden_size % 8 == 0 && c.intermediate_size % 8 == 0,
          "hidden_size and intermediate_size must be multiples of 8 (16-byte rows for the bf16 kernels)");
  if (o.weights == GpuWeights::Int4) {
    const int64_t q_dim = static_cast<int64_t>(c.num_attention_heads) * c.head_dim();
    require(c.hidden_size % kernels::kInt4Group == 0 && c.intermediate_size % kernels::kInt4Group == 0 &&
                q_dim % kernels::kInt4Group == 0,
            "int4 weights need hidden_size, intermediate_size and heads x head_dim to be multiples of " +
                std::to_string(kernels::kInt4Group) + " (the group size)");
  }
  if (o.weights == GpuWeights::Int8) {
    require(c.hidden_size % 16 == 0 && c.intermediate_size % 16 == 0,
            "int8 weights need hidden_size and intermediate_size to be multiples of 16");
  }
  require(o.device >= 0, "device must be 0 or more");
  require(o.kv_block_size >= 1 && o.kv_block_size <= 1024, "kv_block_size must be between 1 and 1024");
  require(o.prefill_chunk >= 1, "prefill_chunk must be positive");
  require(o.max_batch >= 1, "max_batch must be positive");
  require(o.max_context >= 0, "max_context must be 0 (automatic) or positive");
  require(o.kv_cache_tokens >= 0, "kv_cache_tokens must be 0 (automatic) or positive");
  require(o.kv_memory_fraction > 0.0 && o.kv_memory_fraction <= 1.0, "kv_memory_fraction must be in (0, 1]");
  require(o.min_kv_tokens >= 1, "min_kv_tokens must be positive");
}

uint64_t weight_bytes_bf16(const ModelConfig& c) {
  const uint64_t h = c.hidden_size, ff = c.intermediate_size, vocab = c.vocab_size;
  const uint64_t q_dim = static_cast<uint64_t>(c.num_attention_heads) * c.head_dim();
  const uint64_t per_layer =
      (static_cast<uint64_t>(c.qkv_rows()) * h + h * q_dim + 3 * ff * h) * 2 + 2 * h * 4;
  const uint64_t embeddings = vocab * h * 2 * (c.tie_word_embeddings ? 1 : 2);
  return per_layer * c.num_hidden_layers + embeddings + h * 4;
}

uint64_t linear_bytes(uint64_t rows, uint64_t cols, GpuWeights weights) {
  switch (weights) {
    case GpuWeights::Bf16:
      return rows * cols * 2;
    case GpuWeights::Int8:
      return rows * cols + rows * 4;
    case GpuWeights::Int4:
      return rows * cols / 2 + rows * (cols / kernels::kInt4Group) * 8;
  }
  return 0;
}

uint64_t weight_bytes(const ModelConfig& c, GpuWeights weights) {
  if (weights == GpuWeights::Bf16) return weight_bytes_bf16(c);
  const uint64_t h = c.hidden_size, ff = c.intermediate_size, vocab = c.vocab_size;
  const uint64_t q_dim = static_cast<uint64_t>(c.num_attention_heads) * c.head_dim();
  const uint64_t per_layer = linear_bytes(static_cast<uint64_t>(c.qkv_rows()), h, weights) +
                             linear_bytes(h, q_dim, weights) + linear_bytes(2 * ff, h, weights) +
                             linear_bytes(h, ff, weights) + 2 * h * 4;
  return per_layer * c.num_hidden_layers + vocab * h * 2 + linear_bytes(vocab, h, GpuWeights::Int8) + h * 4;
}

uint64_t dequant_scratch_elements(const ModelConfig& c, GpuWeights weights) {
  if (weights == GpuWeights::Bf16) return 0;
  const uint64_t h = c.hidden_size, ff = c.intermediate_size;
  const uint64_t q_dim = static_cast<uint64_t>(c.num_attention_heads) * c.head_dim();
  return std::max({static_cast<uint64_t>(c.qkv_rows()) * h, h * q_dim, 2 * ff * h, h * ff});
}

uint64_t kv_block_bytes(const ModelConfig& c, int block_size) {
  return 2ull * c.num_hidden_layers * c.kv_dim() * block_size * 2;
}

int max_pass_tokens(const CudaBackendOptions& o) {
  return std::max(o.prefill_chunk, o.max_batch);
}

uint64_t activation_bytes(const ModelConfig& c, const CudaBackendOptions& o) {
  const uint64_t t = max_pass_tokens(o), h = c.hidden_size, ff = c.intermediate_size;
  const uint64_t q_dim = static_cast<uint64_t>(c.num_attention_heads) * c.head_dim();
  // x, delta (fp32), xn (bf16), qkv (fp32), q and attention output (bf16), gate|up and SwiGLU output (bf16),
  // per-row ids, positions, slots (int32) and rope bases (fp64).
  const uint64_t per_token = h * 4 * 2 + h * 2 + static_cast<uint64_t>(c.qkv_rows()) * 4 + q_dim * 2 * 2 +
                             ff * 2 * 2 + ff * 2 + 3 * 4 + 8;
  const uint64_t logit_rows = std::max<uint64_t>(kLogitRowsPerPass, o.max_batch);
  const uint64_t logits = logit_rows * c.vocab_size * 4;
  const uint64_t decode_scratch =
      static_cast<uint64_t>(o.max_batch) * c.num_attention_heads * kMaxDecodeSplits * (c.head_dim() + 2) * 4;
  return t * per_token + logits + decode_scratch + kGemmWorkspace +
         dequant_scratch_elements(c, o.weights) * 2;
}

MemoryPlan plan_memory(const ModelConfig& c, const CudaBackendOptions& o, uint64_t free_bytes,
                       const std::string& device_name) {
  validate_for_cuda(c, o);
  MemoryPlan plan;
  plan.weight_bytes = weight_bytes(c, o.weights);
  plan.activation_bytes = activation_bytes(c, o);
  plan.reserve_bytes = kReserve;
  plan.kv_block_bytes = kv_block_bytes(c, o.kv_block_size);
  const uint64_t fixed = plan.weight_bytes + plan.activation_bytes + plan.reserve_bytes;
  const int64_t min_blocks = (o.min_kv_tokens + o.kv_block_size - 1) / o.kv_block_size;
  const uint64_t needed = fixed + plan.kv_block_bytes * min_blocks;
  if (needed > free_bytes) {
    throw ModelDoesNotFit("the model does not fit on " + device_name + ": it needs " + gib(needed) +
                          " (weights " + gib(plan.weight_bytes) + " in " + gpu_weights_name(o.weights) +
                          ", activations " + gib(plan.activation_bytes) + ", reserve " +
                          gib(plan.reserve_bytes) + ", KV cache for " + std::to_string(o.min_kv_tokens) +
                          " positions " + gib(plan.kv_block_bytes * min_blocks) + ") but " + gib(free_bytes) +
                          " are free");
  }
  if (o.kv_cache_tokens > 0) {
    plan.kv_blocks = (o.kv_cache_tokens + o.kv_block_size - 1) / o.kv_block_size;
    if (fixed + plan.kv_block_bytes * plan.kv_blocks > free_bytes) {
      throw ModelDoesNotFit("the KV cache of " + std::to_string(o.kv_cache_tokens) + " positions (" +
                            gib(plan.kv_block_bytes * plan.kv_blocks) + ") does not fit on " + device_name +
                            " next to the model (" + gib(fixed) + "); " + gib(free_bytes) + " are free");
    }
  } else {
    const double left = static_cast<double>(free_bytes - fixed) * o.kv_memory_fraction;
    plan.kv_blocks =
        std::max<int64_t>(min_blocks, static_cast<int64_t>(left / static_cast<double>(plan.kv_block_bytes)));
  }
  // Slot ids (block * block_size + offset) are int32.
  plan.kv_blocks = std::min<int64_t>(plan.kv_blocks, (int64_t{1} << 31) / o.kv_block_size - 1);
  const int64_t wanted =
      o.max_context > 0 ? o.max_context : std::max<int64_t>(4ll * c.max_position_embeddings, 32768);
  const int64_t context = std::min<int64_t>(wanted, plan.kv_blocks * o.kv_block_size);
  plan.max_context = static_cast<int>(std::min<int64_t>(context, 1 << 30));
  return plan;
}

int plan_decode_splits(int seqs, int kv_heads, int sm_count, int max_blocks_per_sequence) {
  if (seqs < 1 || kv_heads < 1 || sm_count < 1 || max_blocks_per_sequence < 1)
    throw std::invalid_argument("plan_decode_splits: sizes must be positive");
  const int blocks_per_split_min = 4;
  const int by_length = std::max(1, max_blocks_per_sequence / blocks_per_split_min);
  const int target_blocks = 2 * sm_count;
  const int by_occupancy = std::max(1, (target_blocks + seqs * kv_heads - 1) / (seqs * kv_heads));
  return std::min({by_length, by_occupancy, kMaxDecodeSplits});
}

}  // namespace agentrt::engine::cuda
