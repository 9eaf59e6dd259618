// The CPU backend: the InternLM2 forward pass on all cores, over the weights as cpu_weights.h holds them. Not
// safe for concurrent calls: one thread drives it (Generator for one sequence, the serving engine's step loop
// for many, batched through forward()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/checkpoint.h"
#include "engine/cpu/cpu_weights.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/kv_rows.h"
#include "engine/cpu/matmul.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {

struct CpuBackendOptions {
  int threads = 0;          // 0: one per hardware thread
  bool portable = false;    // use the portable kernels even where a faster variant is available
  std::string kernels;      // a kernel variant by name (kernels.h); empty: the fastest (or portable above)
  int prefill_chunk = 256;  // tokens per forward pass during prefill (bounds the activation memory)
  // Weights: Dense keeps the checkpoint's (a quantized checkpoint stays quantized); Int8/Int4 quantize a
  // dense checkpoint at load (cpu_weights.h).
  WeightFormat weights = WeightFormat::Dense;
  WeightFormat head = WeightFormat::Int8;  // the output head's format when the layers are quantized
  bool map_weights = false;                // dense weights in place from the mapping (CpuWeightOptions)
  LoadProgress progress;                   // conversion progress
  KvFormat kv_cache = KvFormat::F32;       // KV caches and block stores: fp32 or int8 (kv_rows.h)
  PrefillActivations prefill_activations = PrefillActivations::Auto;  // matmul.h
};

class CpuBackend : public Backend {
 public:
  CpuBackend(std::shared_ptr<const Checkpoint> checkpoint, const CpuBackendOptions& options = {});

  std::string name() const override;
  const ModelConfig& config() const override { return checkpoint_->config(); }
  std::unique_ptr<KvCache> new_cache() override;
  void prefill(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which,
               std::span<float> logits) override;
  void decode(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
              std::span<float> logits) override;
  std::unique_ptr<KvBlockStore> new_block_store(int blocks, int block_tokens) override;
  std::unique_ptr<PagedKvCache> new_paged_cache(KvBlockStore& store) override;
  void forward(std::span<const ForwardChunk> chunks, std::span<float> logits) override;

  int threads() const { return pool_.size(); }
  const Kernels& kernels() const { return *kernels_; }
  const CpuWeights& weights() const { return *weights_; }
  // Bytes of K and V one position takes in every layer (what decode reads per position of context).
  std::size_t kv_bytes_per_position() const;

 private:
  class Cache;
  class BlockStore;
  // One token's place: in a contiguous cache, or through a paged cache's block table.
  struct Row {
    Cache* cache = nullptr;
    PagedKvCache* paged = nullptr;
    int position = 0;
    int64_t rope_length = 0;  // sequence length that sets the dynamic-NTK base
  };
  // A row for `cache` (either kind, made by this backend) at `position`; throws for a foreign cache.
  Row row_for(KvCache& cache, int position, int64_t rope_length) const;
  // Positions [position, position + count) of a row's sequence in one layer, stored back to back: K and V
  // [count, kv_dim] each. count is at most end - position.
  struct KvRun {
    KvSpan k;
    KvSpan v;
    int count;
  };
  KvRun run_at(const Row& row, int layer, int position, int end) const;
  // Writes K and V [kv_dim] of a row's token (at row.position) in `layer`.
  void store_kv(const Row& row, int layer, const float* k, const float* v) const;
  // Runs rows (one token each) through the model; logits for rows with want_logits[i], written in order.
  void run_rows(std::span<const int32_t> tokens, std::span<const Row> rows, std::span<const bool> want_logits,
                float* logits);
  void matmul(const WeightMatrix& w, const float* x, int m, float* y);
  void rope(float* vec, int heads, int position, int64_t rope_length);
  const std::vector<float>& inv_freq_for(int64_t rope_length);

  std::shared_ptr<const Checkpoint> checkpoint_;
  CpuBackendOptions options_;
  const Kernels* kernels_;
  ThreadPool pool_;
  MatmulRunner matmul_;
  std::unique_ptr<CpuWeights> weights_;
  // fp32 copies of the small weights.
  std::vector<std::vector<float>> attention_norm_, ffn_norm_;
  std::vector<float> final_norm_;
  // Rope inverse frequencies [head_dim / 2] for the base in use.
  double inv_freq_base_ = 0;
  std::vector<float> inv_freq_;
  std::vector<std::vector<float>> scores_;  // per thread, [positions]
};

}  // namespace agentrt::engine::cpu
