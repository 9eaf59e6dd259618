#include "engine/serving/block_allocator.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace agentrt::engine::serving {

uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens) {
  // FNV-1a over the parent hash and the token ids, then a splitmix finaliser to spread the bits.
  uint64_t h = 0xcbf29ce484222325ull;
  const auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
  };
  mix(parent);
  for (const int32_t t : tokens) mix(static_cast<uint32_t>(t));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

BlockAllocator::BlockAllocator(int blocks, int block_tokens)
    : block_tokens_(block_tokens),
      refs_(static_cast<std::size_t>(std::max(blocks, 0)), 0),
      lru_at_(refs_.size()),
      hash_of_(refs_.size(), 0),
      registered_(refs_.size(), false) {
  if (blocks <= 0 || block_tokens <= 0)
    throw std::invalid_argument("block allocator: blocks and block size must be > 0");
  for (int32_t b = blocks - 1; b >= 0; --b) free_.push_back(b);
}

int32_t BlockAllocator::allocate() {
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    block = lru_.front();
    lru_.pop_front();
    cache_.erase(hash_of_[block]);
    registered_[block] = false;
  } else {
    throw std::runtime_error("KV cache: all " + std::to_string(total()) + " blocks are in use");
  }
  refs_[block] = 1;
  return block;
}

void BlockAllocator::retain(int32_t block) {
  if (refs_.at(block) == 0) {
    if (!registered_[block]) throw std::logic_error("block allocator: retaining a free block");
    lru_.erase(lru_at_[block]);
  }
  ++refs_[block];
}

void BlockAllocator::release(int32_t block) {
  if (refs_.at(block) <= 0) throw std::logic_error("block allocator: releasing an unreferenced block");
  if (--refs_[block] > 0) return;
  if (registered_[block]) {
    lru_at_[block] = lru_.insert(lru_.end(), block);
  } else {
    free_.push_back(block);
  }
}

std::vector<int32_t> BlockAllocator::lookup(std::span<const int32_t> tokens, int max_blocks,
                                            std::vector<uint64_t>& hashes) const {
  std::vector<int32_t> blocks;
  hashes.clear();
  uint64_t parent = 0;
  const int full = std::min(max_blocks, static_cast<int>(tokens.size()) / block_tokens_);
  for (int b = 0; b < full; ++b) {
    const auto part = tokens.subspan(static_cast<std::size_t>(b) * block_tokens_, block_tokens_);
    const uint64_t h = chain_hash(parent, part);
    const auto it = cache_.find(h);
    if (it == cache_.end() || !std::equal(part.begin(), part.end(), it->second.tokens.begin())) break;
    blocks.push_back(it->second.block);
    hashes.push_back(h);
    parent = h;
  }
  return blocks;
}

void BlockAllocator::register_full(int32_t block, uint64_t hash, std::span<const int32_t> tokens) {
  if (registered_.at(block) || cache_.count(hash) != 0) return;
  cache_.emplace(hash, Entry{block, std::vector<int32_t>(tokens.begin(), tokens.end())});
  hash_of_[block] = hash;
  registered_[block] = true;
}

int BlockAllocator::unreferenced(std::span<const int32_t> blocks) const {
  return static_cast<int>(
      std::count_if(blocks.begin(), blocks.end(), [&](int32_t b) { return refs_[b] == 0; }));
}

}  // namespace agentrt::engine::serving
