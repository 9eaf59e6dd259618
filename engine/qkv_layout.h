// Where each query, key and value head sits in the rows of InternLM2's packed wqkv (spec "wqkv packing"):
// rows are grouped per KV head k as [g query heads, key head k, value head k], each head_dim rows. Every
// backend unpacks the wqkv product through these functions.
#pragma once

#include "engine/config.h"

namespace agentrt::engine {

struct QkvLayout {
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;

  explicit QkvLayout(const ModelConfig& c)
      : heads(c.num_attention_heads), kv_heads(c.num_key_value_heads), head_dim(c.head_dim()) {}
  int group() const { return heads / kv_heads; }
  // First row of query head h, key head k, value head k.
  int query_row(int h) const { return ((h / group()) * (group() + 2) + h % group()) * head_dim; }
  int key_row(int k) const { return (k * (group() + 2) + group()) * head_dim; }
  int value_row(int k) const { return (k * (group() + 2) + group() + 1) * head_dim; }
};

}  // namespace agentrt::engine
