#include "engine/cuda/kv_pool.h"

#include <atomic>
#include <string>

namespace agentrt::engine::cuda {
namespace {

uint64_t next_pool_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

}  // namespace

KvPool::KvPool(const ModelConfig& config, int blocks, int block_size, int table_stride, int max_batch)
    : blocks_(blocks),
      block_size_(block_size),
      table_stride_(table_stride),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim()),
      layer_elements_(static_cast<std::size_t>(blocks) * config.kv_dim() * block_size),
      id_(next_pool_id()) {
  const std::size_t elements = layer_elements_ * config.num_hidden_layers;
  const std::string what = "a KV cache of " + std::to_string(blocks) + " blocks x " +
                           std::to_string(block_size) + " positions (" + gib(2 * elements * 2) + ")";
  k_ = DeviceBuffer<kernels::bf16>(elements, what);
  v_ = DeviceBuffer<kernels::bf16>(elements, what);
  const std::size_t entries = static_cast<std::size_t>(max_batch) * table_stride;
  tables_ = DeviceBuffer<int32_t>(entries, "block tables");
  tables_host_ = PinnedBuffer<int32_t>(entries, "block tables");
}

kernels::PagedKv KvPool::layer(int layer) const {
  return kernels::PagedKv{k_.get() + layer_elements_ * layer, v_.get() + layer_elements_ * layer, block_size_,
                          kv_heads_, head_dim_};
}

}  // namespace agentrt::engine::cuda
