// Prefill (tensor-core flash attention) and decode (split-K over the paged cache) attention against the CPU
// backend's attention loop (its dot/axpy kernels, fp32 softmax) on random queries, keys and values placed in
// scattered cache blocks; odd lengths, GQA groups of 1 to 8, every head size the kernels are built for.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/cpu/kernels.h"
#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

using kernels::bf16;

struct Shape {
  int heads, kv_heads, head_dim;
};

// A paged cache on the host: K and V [blocks, kv_heads, block_size, head_dim] bf16 with random contents, and
// each sequence's table of distinct blocks in shuffled order.
struct HostCache {
  int blocks, kv_heads, block_size, head_dim;
  std::vector<uint16_t> k, v;
  std::vector<int32_t> free;

  HostCache(int blocks_, const Shape& s, int block_size_, std::mt19937& rng)
      : blocks(blocks_), kv_heads(s.kv_heads), block_size(block_size_), head_dim(s.head_dim) {
    const std::size_t n = static_cast<std::size_t>(blocks) * kv_heads * block_size * head_dim;
    k = random_bf16(n, 1.0f, rng);
    v = random_bf16(n, 1.0f, rng);
    free.resize(blocks);
    std::iota(free.begin(), free.end(), 0);
    std::shuffle(free.begin(), free.end(), rng);
  }
  std::vector<int32_t> take(int positions) {
    const int count = (positions + block_size - 1) / block_size;
    std::vector<int32_t> table(free.end() - count, free.end());
    free.resize(free.size() - count);
    return table;
  }
  std::vector<float> row(const std::vector<uint16_t>& pool, const std::vector<int32_t>& table, int position,
                         int kv_head) const {
    const std::size_t at =
        ((static_cast<std::size_t>(table[position / block_size]) * kv_heads + kv_head) * block_size +
         position % block_size) *
        head_dim;
    return bf16_values(std::vector<uint16_t>(pool.begin() + static_cast<std::ptrdiff_t>(at),
                                             pool.begin() + static_cast<std::ptrdiff_t>(at + head_dim)));
  }
};

// One query against keys [0, keys): the CPU backend's loop.
std::vector<float> cpu_attention(const float* q, const HostCache& cache, const std::vector<int32_t>& table,
                                 int keys, int kv_head) {
  const auto& kernels = cpu::portable_kernels();
  const int d = cache.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> scores(keys);
  float max_score = -INFINITY;
  for (int j = 0; j < keys; ++j) {
    scores[j] = kernels.dot(q, cache.row(cache.k, table, j, kv_head).data(), d) * scale;
    max_score = std::max(max_score, scores[j]);
  }
  float sum = 0;
  for (float& s : scores) {
    s = std::exp(s - max_score);
    sum += s;
  }
  std::vector<float> out(d, 0.0f);
  for (int j = 0; j < keys; ++j)
    kernels.axpy(scores[j] / sum, cache.row(cache.v, table, j, kv_head).data(), out.data(), d);
  return out;
}

// Reference outputs [rows, heads, head_dim] for queries [rows, heads, head_dim]: row i reads keys [0,
// keys[i]) through tables[i]; query head h reads KV head h / group.
std::vector<float> cpu_attention_rows(const std::vector<float>& q, const Shape& s, const HostCache& cache,
                                      const std::vector<const std::vector<int32_t>*>& tables,
                                      const std::vector<int>& keys) {
  std::vector<float> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (int h = 0; h < s.heads; ++h) {
      const auto o = cpu_attention(&q[(i * s.heads + h) * s.head_dim], cache, *tables[i], keys[i],
                                   h / (s.heads / s.kv_heads));
      out.insert(out.end(), o.begin(), o.end());
    }
  }
  return out;
}

class AttentionTest : public GpuTest {
 protected:
  std::mt19937 rng{77};
};

TEST_F(AttentionTest, PrefillMatchesTheCpuAttentionCausallyFromAnyStart) {
  const Shape shapes[] = {{4, 2, 16}, {8, 1, 32}, {6, 6, 64}, {32, 8, 128}, {16, 8, 128}};
  const std::pair<int, int> runs[] = {{0, 1},   {0, 17},  {0, 130},
                                      {45, 64}, {100, 3}, {7, 200}};  // (start, rows)
  for (const Shape& s : shapes) {
    for (const auto& [start, rows] : runs) {
      const int block_size = 16;
      HostCache cache(64, s, block_size, rng);
      const auto table = cache.take(start + rows);
      const auto q = random_bf16(static_cast<std::size_t>(rows) * s.heads * s.head_dim, 1.0f, rng);
      std::vector<int> keys;
      for (int i = 0; i < rows; ++i) keys.push_back(start + i + 1);
      const auto ref = cpu_attention_rows(bf16_values(q), s, cache, std::vector(rows, &table), keys);
      auto dk = to_device<bf16>(cache.k);
      auto dv = to_device<bf16>(cache.v);
      auto dq = to_device<bf16>(q);
      auto dtable = to_device<int32_t>(table);
      auto dout = poisoned<bf16>(ref.size());
      const kernels::PagedKv kv{dk.get(), dv.get(), block_size, s.kv_heads, s.head_dim};
      ASSERT_EQ(
          kernels::attention_prefill(dq.get(), kv, dtable.get(), start, rows, s.heads, dout.get(), nullptr),
          cudaSuccess);
      EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(dout)), ref), 1e-2)
          << "heads " << s.heads << "/" << s.kv_heads << " d " << s.head_dim << " start " << start << " rows "
          << rows;
    }
  }
}

TEST_F(AttentionTest, DecodeMatchesTheCpuAttentionForAnySplitCount) {
  const Shape shapes[] = {{4, 2, 16}, {48, 8, 128}, {8, 1, 64}, {32, 8, 128}, {5, 5, 32}};
  const std::vector<int> lengths{1, 31, 32, 33, 500, 1000, 7};
  for (const Shape& s : shapes) {
    for (const int splits : {1, 3, 32}) {
      const int block_size = 32, stride = 40;
      HostCache cache(256, s, block_size, rng);
      std::vector<int32_t> tables(lengths.size() * stride, 0);
      std::vector<std::vector<int32_t>> owned;
      for (std::size_t i = 0; i < lengths.size(); ++i) {
        owned.push_back(cache.take(lengths[i]));
        std::copy(owned.back().begin(), owned.back().end(),
                  tables.begin() + static_cast<std::ptrdiff_t>(i * stride));
      }
      const int seqs = static_cast<int>(lengths.size());
      const auto q = random_bf16(static_cast<std::size_t>(seqs) * s.heads * s.head_dim, 1.0f, rng);
      std::vector<const std::vector<int32_t>*> owned_tables;
      for (const auto& table : owned) owned_tables.push_back(&table);
      const auto ref = cpu_attention_rows(bf16_values(q), s, cache, owned_tables, lengths);
      auto dk = to_device<bf16>(cache.k);
      auto dv = to_device<bf16>(cache.v);
      auto dq = to_device<bf16>(q);
      auto dtables = to_device<int32_t>(tables);
      auto dlengths = to_device<int32_t>(lengths);
      const std::size_t partial_rows = static_cast<std::size_t>(seqs) * s.heads * splits;
      auto po = poisoned<float>(partial_rows * s.head_dim);
      auto pml = poisoned<float>(partial_rows * 2);
      auto dout = poisoned<bf16>(ref.size());
      const kernels::PagedKv kv{dk.get(), dv.get(), block_size, s.kv_heads, s.head_dim};
      ASSERT_EQ(kernels::attention_decode(dq.get(), kv, dtables.get(), stride, dlengths.get(), seqs, s.heads,
                                          splits, po.get(), pml.get(), dout.get(), nullptr),
                cudaSuccess);
      EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(dout)), ref), 5e-3)
          << "heads " << s.heads << "/" << s.kv_heads << " d " << s.head_dim << " splits " << splits;
    }
  }
}

TEST_F(AttentionTest, UnsupportedShapesAreRefusedNotRun) {
  EXPECT_FALSE(kernels::attention_head_dim_supported(96));
  const kernels::PagedKv kv{nullptr, nullptr, 16, 1, 96};
  EXPECT_EQ(kernels::attention_prefill(nullptr, kv, nullptr, 0, 4, 1, nullptr, nullptr),
            cudaErrorInvalidValue);
  const kernels::PagedKv wide_group{nullptr, nullptr, 16, 1, 128};
  EXPECT_EQ(kernels::attention_decode(nullptr, wide_group, nullptr, 1, nullptr, 1, 16, 1, nullptr, nullptr,
                                      nullptr, nullptr),
            cudaErrorInvalidValue);
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
