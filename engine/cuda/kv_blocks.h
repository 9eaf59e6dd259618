// The host side of the paged KV cache: a fixed pool of blocks (each block_size consecutive positions of one
// sequence, for every layer and KV head) handed out from a free list, and each sequence's block table. Pure
// bookkeeping: the GPU memory the ids index lives in the backend.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace agentrt::engine::cuda {

// Thrown when a sequence needs more blocks than are free; nothing was taken.
class KvCacheFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class KvBlockAllocator {
 public:
  explicit KvBlockAllocator(int blocks);
  int total() const { return total_; }
  int free_count() const { return static_cast<int>(free_.size()); }
  // Takes `count` blocks (the lowest free ids first, so a fresh pool hands out 0, 1, 2, ...). Throws
  // KvCacheFull, taking none, when fewer are free.
  std::vector<int32_t> allocate(int count);
  // Returns blocks to the pool; throws std::logic_error for an id out of range or already free.
  void release(std::span<const int32_t> blocks);

 private:
  int total_;
  std::vector<int32_t> free_;  // a stack, lowest id on top
  std::vector<bool> in_use_;   // [total]
};

// One sequence's blocks: position p lives in block table()[p / block_size] at offset p % block_size. Returns
// its blocks to the allocator when destroyed (the allocator is shared so that a cache may outlive the backend
// that made it).
class BlockTable {
 public:
  BlockTable(std::shared_ptr<KvBlockAllocator> allocator, int block_size);
  ~BlockTable();
  BlockTable(const BlockTable&) = delete;
  BlockTable& operator=(const BlockTable&) = delete;

  int block_size() const { return block_size_; }
  const std::vector<int32_t>& blocks() const { return blocks_; }
  int capacity() const { return static_cast<int>(blocks_.size()) * block_size_; }
  // Blocks needed to hold `positions` positions.
  int blocks_for(int positions) const { return (positions + block_size_ - 1) / block_size_; }
  // Grows the table to hold `positions` positions; throws KvCacheFull (the table unchanged) when the pool is
  // short.
  void reserve(int positions);
  // Keeps only the blocks that hold positions [0, positions) and frees the rest.
  void shrink_to(int positions);
  // Global slot index (block * block_size + offset) of a position the table covers.
  int32_t slot(int position) const {
    return blocks_[position / block_size_] * block_size_ + position % block_size_;
  }

 private:
  std::shared_ptr<KvBlockAllocator> allocator_;
  int block_size_;
  std::vector<int32_t> blocks_;
};

}  // namespace agentrt::engine::cuda
