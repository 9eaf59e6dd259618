#include "engine/cuda/kv_blocks.h"

#include <algorithm>
#include <string>

namespace agentrt::engine::cuda {

KvBlockAllocator::KvBlockAllocator(int blocks) : total_(blocks), in_use_(blocks > 0 ? blocks : 0, false) {
  if (blocks < 1) throw std::invalid_argument("KV cache: the pool needs at least one block");
  free_.reserve(blocks);
  for (int id = blocks - 1; id >= 0; --id) free_.push_back(id);
}

std::vector<int32_t> KvBlockAllocator::allocate(int count) {
  if (count < 0) throw std::invalid_argument("KV cache: negative block count");
  if (count > free_count()) {
    throw KvCacheFull("KV cache full: " + std::to_string(count) + " blocks needed, " +
                      std::to_string(free_count()) + " of " + std::to_string(total_) +
                      " free (end other sequences or give the cache more memory)");
  }
  std::vector<int32_t> taken(free_.end() - count, free_.end());
  free_.resize(free_.size() - count);
  std::vector<int32_t> ordered(taken.rbegin(), taken.rend());  // lowest id first
  for (const int32_t id : ordered) in_use_[id] = true;
  return ordered;
}

void KvBlockAllocator::release(std::span<const int32_t> blocks) {
  for (const int32_t id : blocks) {
    if (id < 0 || id >= total_)
      throw std::logic_error("KV cache: block " + std::to_string(id) + " out of range");
    if (!in_use_[id]) throw std::logic_error("KV cache: block " + std::to_string(id) + " freed twice");
  }
  // Pushed highest first so that the lowest of them is handed out next.
  std::vector<int32_t> sorted(blocks.begin(), blocks.end());
  std::sort(sorted.rbegin(), sorted.rend());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw std::logic_error("KV cache: a block released twice in one call");
  for (const int32_t id : sorted) {
    in_use_[id] = false;
    free_.push_back(id);
  }
}

BlockTable::BlockTable(std::shared_ptr<KvBlockAllocator> allocator, int block_size)
    : allocator_(std::move(allocator)), block_size_(block_size) {
  if (block_size < 1) throw std::invalid_argument("KV cache: block size must be positive");
}

BlockTable::~BlockTable() {
  allocator_->release(blocks_);
}

void BlockTable::reserve(int positions) {
  const int needed = blocks_for(positions) - static_cast<int>(blocks_.size());
  if (needed <= 0) return;
  const auto added = allocator_->allocate(needed);
  blocks_.insert(blocks_.end(), added.begin(), added.end());
}

void BlockTable::shrink_to(int positions) {
  const int keep = blocks_for(positions < 0 ? 0 : positions);
  if (keep >= static_cast<int>(blocks_.size())) return;
  allocator_->release(std::span<const int32_t>(blocks_).subspan(keep));
  blocks_.resize(keep);
}

}  // namespace agentrt::engine::cuda
