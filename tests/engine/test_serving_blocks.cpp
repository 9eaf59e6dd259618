// The KV block pool's bookkeeping: allocation order, references, the prefix cache's chained hashes and its
// least-recently-released eviction.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "engine/serving/block_allocator.h"

namespace agentrt::engine::serving {
namespace {

std::vector<int32_t> iota_tokens(int n, int from = 0) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), from);
  return t;
}

TEST(BlockAllocator, HandsOutTheMostRecentlyFreedBlockFirstAndTakesThemBack) {
  BlockAllocator a(3, 4);
  EXPECT_EQ(a.allocate(), 0);  // never-used blocks in id order
  EXPECT_EQ(a.allocate(), 1);
  EXPECT_EQ(a.used_count(), 2);
  a.release(0);
  EXPECT_EQ(a.free_count(), 2);
  EXPECT_EQ(a.allocate(), 0);  // freed last, handed out first (block 2 was never touched)
  EXPECT_EQ(a.allocate(), 2);
  EXPECT_THROW(a.allocate(), std::runtime_error);
  a.retain(1);
  a.release(1);
  EXPECT_EQ(a.refs(1), 1);  // still referenced once
  a.release(1);
  EXPECT_EQ(a.free_count(), 1);
  EXPECT_THROW(a.release(1), std::logic_error);
}

TEST(BlockAllocator, ChainHashDependsOnTheWholePrefix) {
  const auto block = iota_tokens(4);
  const uint64_t first = chain_hash(0, block);
  EXPECT_EQ(first, chain_hash(0, block));
  EXPECT_NE(chain_hash(first, block), chain_hash(chain_hash(0, iota_tokens(4, 1)), block));
  EXPECT_NE(first, chain_hash(0, iota_tokens(4, 1)));
}

TEST(BlockAllocator, LookupFindsTheLongestCachedPrefixOfWholeBlocks) {
  BlockAllocator a(8, 4);
  const auto tokens = iota_tokens(10);  // two whole blocks and a partial one
  const int32_t b0 = a.allocate(), b1 = a.allocate();
  const uint64_t h0 = chain_hash(0, std::span(tokens).subspan(0, 4));
  const uint64_t h1 = chain_hash(h0, std::span(tokens).subspan(4, 4));
  a.register_full(b0, h0, std::span(tokens).subspan(0, 4));
  a.register_full(b1, h1, std::span(tokens).subspan(4, 4));
  std::vector<uint64_t> hashes;
  EXPECT_EQ(a.lookup(tokens, 8, hashes), (std::vector<int32_t>{b0, b1}));
  EXPECT_EQ(hashes, (std::vector<uint64_t>{h0, h1}));
  EXPECT_EQ(a.lookup(tokens, 1, hashes), (std::vector<int32_t>{b0}));
  // The same second block after a different first block is a different prefix: only nothing matches.
  auto other = tokens;
  other[0] = 99;
  EXPECT_TRUE(a.lookup(other, 8, hashes).empty());
  // Same first block, different second: one block.
  other = tokens;
  other[5] = 99;
  EXPECT_EQ(a.lookup(other, 8, hashes), (std::vector<int32_t>{b0}));
}

TEST(BlockAllocator, UnreferencedCachedBlocksAreEvictedLeastRecentlyReleasedFirst) {
  BlockAllocator a(3, 2);
  const auto tokens = iota_tokens(6);
  std::vector<int32_t> blocks;
  uint64_t parent = 0;
  for (int b = 0; b < 3; ++b) {
    blocks.push_back(a.allocate());
    const auto part = std::span(tokens).subspan(2 * b, 2);
    parent = chain_hash(parent, part);
    a.register_full(blocks.back(), parent, part);
  }
  // Released tail first, as a finished sequence does: the tail is evicted first, the head last.
  for (int b = 2; b >= 0; --b) a.release(blocks[b]);
  EXPECT_EQ(a.cached_count(), 3);
  EXPECT_EQ(a.free_count(), 0);
  EXPECT_EQ(a.available(), 3);
  std::vector<uint64_t> hashes;
  EXPECT_EQ(a.lookup(tokens, 3, hashes).size(), 3u);

  EXPECT_EQ(a.allocate(), blocks[2]);
  EXPECT_EQ(a.lookup(tokens, 3, hashes).size(), 2u);  // the chain now ends before the evicted block
  // A hit takes a cached block off the eviction list.
  a.retain(blocks[1]);
  EXPECT_EQ(a.cached_count(), 1);
  EXPECT_EQ(a.allocate(), blocks[0]);
  EXPECT_THROW(a.allocate(), std::runtime_error);
  EXPECT_TRUE(a.lookup(tokens, 3, hashes).empty());
}

TEST(BlockAllocator, AnEqualBlockComputedTwiceIsCachedOnce) {
  BlockAllocator a(2, 2);
  const auto tokens = iota_tokens(2);
  const uint64_t h = chain_hash(0, tokens);
  const int32_t first = a.allocate(), second = a.allocate();
  a.register_full(first, h, tokens);
  a.register_full(second, h, tokens);
  a.release(second);
  EXPECT_EQ(a.free_count(), 1);  // the duplicate is simply free
  a.release(first);
  EXPECT_EQ(a.cached_count(), 1);
}

TEST(BlockAllocator, RejectsBadSizes) {
  EXPECT_THROW(BlockAllocator(0, 16), std::invalid_argument);
  EXPECT_THROW(BlockAllocator(4, 0), std::invalid_argument);
}

}  // namespace
}  // namespace agentrt::engine::serving
