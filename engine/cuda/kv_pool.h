// GPU memory of a paged KV cache: K and V for a fixed number of blocks, and the per-step block tables a
// decode or prefill pass reads. The backend's own caches use one pool; each KvBlockStore made for the serving
// engine (engine/serving) is another.
#pragma once

#include <cstdint>

#include "engine/backend.h"
#include "engine/config.h"
#include "engine/cuda/cuda_plan.h"
#include "engine/cuda/device_memory.h"
#include "kernels/kernels.h"

namespace agentrt::engine::cuda {

class KvPool {
 public:
  // Allocates K and V for `blocks` blocks of `block_size` positions of every layer, and block tables of
  // `table_stride` entries for up to `max_batch` sequences. Throws CudaError naming the pool when the GPU is
  // out of memory.
  KvPool(const ModelConfig& config, int blocks, int block_size, int table_stride, int max_batch);

  int blocks() const { return blocks_; }
  int block_size() const { return block_size_; }
  int table_stride() const { return table_stride_; }
  // Distinct for every pool a process makes: decode graphs are keyed by it (an address could be reused).
  uint64_t id() const { return id_; }
  kernels::PagedKv layer(int layer) const;
  // Block tables [max_batch, table_stride]: staged on the host, uploaded before a pass.
  int32_t* tables_host() const { return tables_host_.get(); }
  const int32_t* tables() const { return tables_.get(); }

 private:
  int blocks_, block_size_, table_stride_, kv_heads_, head_dim_;
  std::size_t layer_elements_;
  uint64_t id_;
  DeviceBuffer<kernels::bf16> k_, v_;  // [layers, blocks, kv_heads, block_size, head_dim]
  DeviceBuffer<int32_t> tables_;
  PinnedBuffer<int32_t> tables_host_;
};

// The serving engine's block store on the GPU.
class CudaBlockStore : public KvBlockStore {
 public:
  CudaBlockStore(const void* owner, const ModelConfig& config, int blocks, int block_tokens, int table_stride,
                 int max_batch)
      : KvBlockStore(blocks, block_tokens),
        owner_(owner),
        bytes_(kv_block_bytes(config, block_tokens)),
        pool_(config, blocks, block_tokens, table_stride, max_batch) {}
  std::size_t block_bytes() const override { return bytes_; }
  const void* owner() const { return owner_; }
  KvPool& pool() { return pool_; }

 private:
  const void* owner_;  // compared only: the backend that made it
  std::size_t bytes_;
  KvPool pool_;
};

}  // namespace agentrt::engine::cuda
