// The paged KV cache's bookkeeping: the block pool's free list and each sequence's block table.
#include <gtest/gtest.h>

#include "engine/cuda/kv_blocks.h"

namespace agentrt::engine::cuda {
namespace {

TEST(KvBlockAllocator, HandsOutTheLowestFreeIdsAndTakesNothingWhenShort) {
  KvBlockAllocator pool(6);
  EXPECT_EQ(pool.allocate(3), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pool.free_count(), 3);
  EXPECT_THROW(pool.allocate(4), KvCacheFull);
  EXPECT_EQ(pool.free_count(), 3);
  const std::vector<int32_t> back{2, 0};
  pool.release(back);
  EXPECT_EQ(pool.allocate(2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(pool.allocate(0), std::vector<int32_t>{});
  EXPECT_EQ(pool.allocate(3), (std::vector<int32_t>{3, 4, 5}));
  EXPECT_EQ(pool.free_count(), 0);
}

TEST(KvBlockAllocator, RefusesBadReleasesAndSizes) {
  KvBlockAllocator pool(4);
  const auto taken = pool.allocate(2);
  const std::vector<int32_t> out_of_range{4};
  EXPECT_THROW(pool.release(out_of_range), std::logic_error);
  const std::vector<int32_t> never_taken{3};
  EXPECT_THROW(pool.release(never_taken), std::logic_error);
  const std::vector<int32_t> twice{0, 0};
  EXPECT_THROW(pool.release(twice), std::logic_error);
  EXPECT_EQ(pool.free_count(), 2);  // failed releases change nothing
  pool.release(taken);
  EXPECT_THROW(pool.release(taken), std::logic_error);
  EXPECT_THROW(KvBlockAllocator(0), std::invalid_argument);
  EXPECT_THROW(pool.allocate(-1), std::invalid_argument);
}

TEST(BlockTable, GrowsShrinksAndMapsPositionsToSlots) {
  auto pool = std::make_shared<KvBlockAllocator>(8);
  {
    BlockTable other(pool, 16);
    other.reserve(1);  // takes block 0, so the table below starts at block 1
    BlockTable table(pool, 16);
    table.reserve(33);
    EXPECT_EQ(table.blocks(), (std::vector<int32_t>{1, 2, 3}));
    EXPECT_EQ(table.capacity(), 48);
    EXPECT_EQ(table.slot(0), 16);
    EXPECT_EQ(table.slot(17), 2 * 16 + 1);
    EXPECT_EQ(table.slot(47), 3 * 16 + 15);
    table.reserve(40);  // already covered
    EXPECT_EQ(pool->free_count(), 4);
    table.shrink_to(17);
    EXPECT_EQ(table.blocks(), (std::vector<int32_t>{1, 2}));
    EXPECT_EQ(pool->free_count(), 5);
    EXPECT_THROW(table.reserve(16 * 8), KvCacheFull);
    EXPECT_EQ(table.blocks().size(), 2u);  // unchanged
    table.shrink_to(0);
    EXPECT_TRUE(table.blocks().empty());
    table.reserve(16);
    EXPECT_EQ(table.blocks(), (std::vector<int32_t>{1}));
  }
  EXPECT_EQ(pool->free_count(), 8);  // tables return their blocks when destroyed
  EXPECT_THROW(BlockTable(pool, 0), std::invalid_argument);
}

}  // namespace
}  // namespace agentrt::engine::cuda
