// The CUDA backend: the InternLM2 forward pass on one GPU. Weights live on the GPU as bf16 or, with
// --weights int8|int4 or a quantized checkpoint, as W8A16/W4A16 linear layers and an int8 head (uploaded
// once), keys and values in a paged cache (fixed-size blocks from a free list, a block table per sequence),
// the residual stream in fp32. Prefill runs chunks of up to prefill_chunk tokens through cuBLASLt GEMMs and
// the flash-attention kernel; a decode step (any batch up to max_batch) runs the batch-1 GEMV or cuBLASLt and
// the split-K paged attention, replayed as a CUDA graph captured per batch size. The serving engine's paged
// caches (engine/backend.h) live in block stores that are KV pools of their own. Everything runs on one
// stream; logits come back through pinned memory. Not safe for concurrent calls (one generation at a time).
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/checkpoint.h"
#include "engine/cuda/cuda_plan.h"
#include "engine/cuda/cuda_weights.h"
#include "engine/cuda/device_memory.h"
#include "engine/cuda/kv_blocks.h"
#include "engine/cuda/kv_pool.h"

namespace agentrt::engine::cuda {

// GPUs the runtime sees (0 when there is no driver or no device).
int device_count();
// Throws std::runtime_error when no GPU is visible, std::invalid_argument when `device` is not one of them.
void require_gpu(int device);

// How the next token is chosen on the GPU by decode_sample().
struct GpuSampling {
  float temperature = 0.0f;  // 0: greedy (argmax)
  int top_k = 0;             // 0: off
  float top_p = 1.0f;        // 1: off
};

class CudaBackend : public Backend {
 public:
  // Uploads the checkpoint's weights. Throws std::runtime_error when there is no GPU, ModelDoesNotFit when
  // the model does not fit (checked before allocating), std::invalid_argument for a shape the kernels do not
  // take.
  CudaBackend(std::shared_ptr<const Checkpoint> checkpoint, const CudaBackendOptions& options = {});
  // Random weights of `config`'s shape (benchmarks).
  CudaBackend(const ModelConfig& config, uint64_t seed, const CudaBackendOptions& options = {});
  ~CudaBackend() override;

  std::string name() const override;
  const ModelConfig& config() const override { return config_; }
  // The backend's own KV pool is allocated with the first cache (a process that only serves through
  // new_block_store never allocates it).
  std::unique_ptr<KvCache> new_cache() override;
  void prefill(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which,
               std::span<float> logits) override;
  void decode(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
              std::span<float> logits) override;

  // Paging for the serving engine (engine/backend.h): a store is a KV pool of its own on the GPU; forward()
  // runs every one-token chunk of a pass as one batched decode step and longer chunks as prefills.
  std::unique_ptr<KvBlockStore> new_block_store(int blocks, int block_tokens) override;
  std::unique_ptr<PagedKvCache> new_paged_cache(KvBlockStore& store) override;
  void forward(std::span<const ForwardChunk> chunks, std::span<float> logits) override;

  // A decode step that also picks each sequence's next token on the GPU (no logits copied back). `uniform`:
  // one draw in [0, 1) per sequence (ignored when greedy). Returns the chosen ids.
  std::vector<int32_t> decode_sample(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
                                     const GpuSampling& sampling, std::span<const float> uniform = {});

  const MemoryPlan& memory_plan() const { return plan_; }
  const std::string& device_name() const { return device_name_; }
  // Free blocks of the backend's own KV pool (all of them before the first cache).
  int free_kv_blocks() const {
    return allocator_ ? allocator_->free_count() : static_cast<int>(plan_.kv_blocks);
  }
  cudaStream_t stream() const { return stream_; }
  // Decode graphs captured so far (one per batch size and pool used at least twice).
  int captured_graphs() const { return static_cast<int>(graphs_.size()); }

 private:
  class Cache;
  struct Graph;
  // One row of a decode step: a sequence's next token.
  struct DecodeRow {
    KvCache* cache;
    const std::vector<int32_t>* table;
    int position;
    int64_t rope_length;
    int32_t token;
  };
  CudaBackend(const ModelConfig& config, const CudaBackendOptions& options);
  void allocate_buffers();
  KvPool& own_pool();

  void check_tokens(std::span<const int32_t> tokens) const;
  // The pool a cache lives in and its block table, grown (own caches) or checked (paged caches) to hold
  // `positions` positions. Own caches grow through reserve(), which throws KvCacheFull with nothing taken.
  KvPool& pool_of(KvCache& cache, int positions, const std::vector<int32_t>** table);
  void set_length(KvCache& cache, int length);
  // y[m, n] = x[m, k] @ w[n, k]^T: the GEMV for one row, cuBLASLt otherwise.
  void matmul(const kernels::bf16* x, const kernels::bf16* w, void* y, kernels::OutType out, int m, int n,
              int k);
  // The same with a layer's matrix in any format: quantized ones through kernels::quantized_matmul.
  void matmul(const kernels::bf16* x, const DeviceLinear& w, void* y, kernels::OutType out, int m);
  // Uploads the staged per-step arrays: ids, positions, slots and rope bases of `rows` rows, lengths of
  // `sequences` sequences (decode only), `table_entries` entries of the pool's block tables.
  void upload_step(const KvPool& pool, int rows, int sequences, int table_entries);
  // The layers for `rows` rows already embedded in x_; attention is prefill (one sequence from `start`) or
  // decode (one row per sequence, tables in the pool's step tables).
  void run_layers(const KvPool& pool, int rows, bool decoding, int start, int splits);
  // Final norm of `rows` rows of x_ from `first` on and the output head into logits_ (rows <= logit
  // capacity).
  void run_head(int first, int rows);
  // Appends `tokens` to one sequence (already checked), logits of the rows `which` asks for into `logits`.
  void prefill_pass(KvCache& cache, std::span<const int32_t> tokens, int64_t rope_length, LogitsFor which,
                    std::span<float> logits);
  // Checks a decode batch and turns it into rows (growing own caches' tables only when all fit).
  std::vector<DecodeRow> decode_rows(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
                                     std::span<const int64_t> rope_lengths, KvPool** pool);
  // Runs (or replays) a decode step; leaves logits [rows, vocab] in logits_.
  void decode_step(KvPool& pool, std::span<const DecodeRow> rows);
  // Copies rows [first_row, first_row + rows) of logits_ to pinned memory and waits; returns them there.
  const float* fetch_logits(int first_row, int rows);
  void copy_logits_out(int first_row, int rows, std::span<float> logits);

  ModelConfig config_;
  CudaBackendOptions options_;
  std::shared_ptr<const Checkpoint> checkpoint_;
  std::string device_name_;
  int sm_count_ = 0;
  MemoryPlan plan_;
  cudaStream_t stream_ = nullptr;
  DeviceWeights weights_;
  std::unique_ptr<kernels::Gemm> gemm_;
  std::unique_ptr<KvPool> own_pool_;  // made with the first new_cache()
  std::shared_ptr<KvBlockAllocator> allocator_;

  // Activations for up to max_pass_tokens rows (T) — see activation_bytes().
  DeviceBuffer<float> x_, delta_;               // [T, hidden]
  DeviceBuffer<kernels::bf16> xn_;              // [T, hidden]
  DeviceBuffer<float> qkv_;                     // [T, qkv_rows]
  DeviceBuffer<kernels::bf16> q_, attn_;        // [T, heads * head_dim]
  DeviceBuffer<kernels::bf16> gate_up_;         // [T, 2 * intermediate]
  DeviceBuffer<kernels::bf16> ffn_;             // [T, intermediate]
  DeviceBuffer<float> logits_;                  // [logit_rows, vocab]
  DeviceBuffer<float> partial_o_, partial_ml_;  // [max_batch, heads, kMaxDecodeSplits, head_dim | 2]
  DeviceBuffer<int32_t> sampled_;               // [max_batch]
  DeviceBuffer<float> uniform_;                 // [max_batch]
  DeviceBuffer<kernels::bf16> dequantized_;     // [dequant_scratch_elements]: quantized layers, rows > 8
  // Per-step arrays, staged in pinned memory and uploaded before a pass: ids [T], positions [T], slots [T]
  // (int32), bases [T] (fp64), lengths [max_batch] (int32).
  DeviceBuffer<unsigned char> step_;
  PinnedBuffer<unsigned char> step_host_;
  std::size_t ids_at_ = 0, positions_at_ = 0, slots_at_ = 0, bases_at_ = 0, lengths_at_ = 0;
  PinnedBuffer<float> logits_host_;     // [logit_rows, vocab]
  PinnedBuffer<int32_t> sampled_host_;  // [max_batch]
  int logit_rows_ = 0;

  std::map<std::pair<int, uint64_t>, std::unique_ptr<Graph>> graphs_;  // by (batch size, pool id)
  std::map<std::pair<int, uint64_t>, int> decode_runs_;                // eager runs before capture
};

}  // namespace agentrt::engine::cuda
