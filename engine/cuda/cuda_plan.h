// Host-side planning of the CUDA backend, kept apart from the GPU so it is tested on any machine: the
// options, which model shapes the kernels take, how GPU memory is divided (and the refusal of a model that
// does not fit, before anything is allocated), and launch shapes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/config.h"

namespace agentrt::engine::cuda {

// How the linear layers (wqkv, wo, w1/w3, w2) live on the GPU: bf16, or W8A16 / W4A16 (kernels.h Int8Weights,
// Int4Weights) with the output head in int8, as the CPU backend holds them.
enum class GpuWeights { Bf16, Int8, Int4 };
const char* gpu_weights_name(GpuWeights weights);

struct CudaBackendOptions {
  int device = 0;
  // Int8/Int4 quantize a dense checkpoint at upload; a quantized checkpoint (AWQ int4, agentrt_int8) is
  // uploaded as published whatever this says, except that asking for the other format is refused.
  GpuWeights weights = GpuWeights::Bf16;
  int kv_block_size = 32;    // positions per KV cache block
  int prefill_chunk = 8192;  // tokens per forward pass of a prefill (bounds activation memory)
  int max_batch = 64;        // sequences per decode step
  int max_context =
      0;  // longest sequence; 0: max(4 x max_position_embeddings, 32768) (dynamic NTK goes past)
  int64_t kv_cache_tokens = 0;  // positions the KV pool holds in total; 0: kv_memory_fraction of what is left
  double kv_memory_fraction = 0.90;  // of the GPU memory free after weights, activations and reserve
  int min_kv_tokens = 4096;          // a model whose KV pool would hold fewer positions does not fit
  bool cuda_graphs = true;           // replay decode steps as CUDA graphs
};

// Throws std::invalid_argument naming the field when the kernels cannot run this model or the options are
// bad.
void validate_for_cuda(const ModelConfig& config, const CudaBackendOptions& options);

struct MemoryPlan {
  uint64_t weight_bytes = 0;      // matrices as held (bf16 or quantized) + fp32 norms
  uint64_t activation_bytes = 0;  // per-pass buffers, logits, decode scratch, cuBLASLt workspace
  uint64_t reserve_bytes = 0;     // CUDA context, graphs, cuBLAS internals (not ours to allocate)
  uint64_t kv_block_bytes = 0;    // K and V of one block, all layers
  int64_t kv_blocks = 0;
  int max_context = 0;  // positions one sequence may reach (table stride x block size)
  uint64_t total() const {
    return weight_bytes + activation_bytes + reserve_bytes + kv_block_bytes * kv_blocks;
  }
};

// Rows of logits computed per output-head product during a prefill that wants them all.
constexpr int kLogitRowsPerPass = 256;
// Largest number of splits the decode attention uses per sequence.
constexpr int kMaxDecodeSplits = 32;

uint64_t weight_bytes_bf16(const ModelConfig& config);
// Bytes of the weights as the backend holds them: the embedding table in bf16, the linear layers in
// `weights`, the output head in bf16 (Bf16) or int8 (quantized layers; a separate copy even when tied).
uint64_t weight_bytes(const ModelConfig& config, GpuWeights weights);
// Bytes of one [rows, cols] matrix in `weights` (quantized: packed values and fp32 scales, zero points).
uint64_t linear_bytes(uint64_t rows, uint64_t cols, GpuWeights weights);
// bf16 elements of the scratch matrix quantized layers are dequantized into for products of more than
// kernels::kMaxQuantGemvBatch rows (the largest layer matrix; the head runs as GEMVs instead); 0 for Bf16.
uint64_t dequant_scratch_elements(const ModelConfig& config, GpuWeights weights);
// K and V of one cache block of `block_size` positions, all layers, bf16.
uint64_t kv_block_bytes(const ModelConfig& config, int block_size);
// Tokens a forward pass holds activations for.
int max_pass_tokens(const CudaBackendOptions& options);
uint64_t activation_bytes(const ModelConfig& config, const CudaBackendOptions& options);

// Divides `free_bytes` of GPU memory. Throws ModelDoesNotFit, saying what needs how much and what is free,
// when the weights, activations and a KV pool of min_kv_tokens positions do not fit.
class ModelDoesNotFit : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
MemoryPlan plan_memory(const ModelConfig& config, const CudaBackendOptions& options, uint64_t free_bytes,
                       const std::string& device_name);

// Splits per sequence for decode attention: enough thread blocks (seqs x kv_heads x splits) for about two
// waves over `sm_count` multiprocessors, no split shorter than 4 cache blocks of the longest sequence, at
// most kMaxDecodeSplits. Fixed per batch size so a captured graph stays valid as sequences grow.
int plan_decode_splits(int seqs, int kv_heads, int sm_count, int max_blocks_per_sequence);

}  // namespace agentrt::engine::cuda
