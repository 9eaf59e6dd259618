// The KV block pool's bookkeeping, apart from the memory (a backend's KvBlockStore): which blocks are free,
// which are referenced by how many sequences, and the prefix cache, full blocks found by the hash of their
// tokens chained with the hash of everything before them, so equal prefixes map to equal blocks.
//
// A block is in exactly one of three states:
//   free       on the free list, holds nothing worth keeping; allocated first, most recently freed first (a
//              block still warm in the processor's caches; a pool larger than the load never touches the
//              memory of blocks it does not need), never-used blocks in id order;
//   used       referenced by one or more sequences (shared prefix blocks have several references);
//   cached     unreferenced but registered in the prefix cache: reusable by a later request with the same
//              prefix, evicted least recently released first when the free list is empty.
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace agentrt::engine::serving {

// The hash a block's tokens get, chained with the hash of the blocks before it (0 for the first block).
uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens);

class BlockAllocator {
 public:
  BlockAllocator(int blocks, int block_tokens);

  int total() const { return static_cast<int>(refs_.size()); }
  int block_tokens() const { return block_tokens_; }
  int free_count() const { return static_cast<int>(free_.size()); }
  int cached_count() const { return static_cast<int>(lru_.size()); }
  int used_count() const { return total() - free_count() - cached_count(); }
  // Blocks allocate() can hand out now (free, or cached and evictable).
  int available() const { return free_count() + cached_count(); }
  int refs(int32_t block) const { return refs_.at(block); }

  // A block with one reference: the most recently freed block, else the least recently released cached one
  // (which leaves the prefix cache). Throws std::runtime_error when every block is in use.
  int32_t allocate();
  void retain(int32_t block);
  // Drops one reference; an unreferenced block becomes cached if registered, free otherwise.
  void release(int32_t block);

  // The cached blocks holding the longest prefix of `tokens` made of whole blocks, at most `max_blocks`;
  // takes no references (retain() the ones used). `hashes` gets their chain hashes.
  std::vector<int32_t> lookup(std::span<const int32_t> tokens, int max_blocks,
                              std::vector<uint64_t>& hashes) const;
  // Registers a block its sequence has just filled with `tokens` (block_tokens of them) under `hash`. When
  // an equal block is cached already (two requests computed it at once) this one stays unregistered.
  void register_full(int32_t block, uint64_t hash, std::span<const int32_t> tokens);
  // How many of the next lookup's blocks are cached-and-unreferenced (they stop being available once
  // retained).
  int unreferenced(std::span<const int32_t> blocks) const;

 private:
  struct Entry {
    int32_t block;
    std::vector<int32_t> tokens;  // compared on lookup, so a hash collision is a miss, never a wrong block
  };
  int block_tokens_;
  std::vector<int> refs_;                             // [blocks]
  std::vector<int32_t> free_;                         // a stack: the next block to hand out at the back
  std::list<int32_t> lru_;                            // cached, unreferenced; least recently released first
  std::vector<std::list<int32_t>::iterator> lru_at_;  // [blocks], valid while the block is on lru_
  std::vector<uint64_t> hash_of_;                     // [blocks]
  std::vector<bool> registered_;                      // [blocks]
  std::unordered_map<uint64_t, Entry> cache_;         // chain hash -> block
};

}  // namespace agentrt::engine::serving
