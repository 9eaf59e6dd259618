// The compute interface every backend implements (cpu/ and cuda/): run tokens through the model against a
// per-sequence KV cache and produce logits. Backends own their weights' device copies and their caches'
// memory; callers see caches only as handles.
//
// Paging and prefix sharing (engine/serving). A backend takes part by providing three things; the defaults
// below keep a backend that provides none of them working (the serving engine then refuses to start on it
// with a clear error, and Generator still runs it one sequence at a time):
//   1. new_block_store(blocks, block_tokens): storage for `blocks` KV blocks, each holding K and V of
//      `block_tokens` consecutive positions for every layer and KV head (the CPU backend: fp32
//      [layers, blocks, block_tokens, kv_heads * head_dim], once for K and once for V). Block ids are
//      0..blocks-1; the backend never allocates or frees blocks itself: engine/serving/block_allocator.h
//      does.
//   2. new_paged_cache(store): a PagedKvCache over that store. Its block table is written by the serving
//      engine before each forward pass; position p lives in slot p % block_tokens of block
//      table[p / block_tokens].
//      The backend writes K/V only at positions >= length() (so blocks wholly below length(), which may be
//      shared with other sequences through the prefix cache, are only ever read), and reads every position
//      < the new length through the table.
//   3. forward(chunks, logits): one pass over several sequences at once (continuous batching), each chunk
//      appending its tokens to its own cache. Its default runs prefill() per chunk; a backend overrides it to
//      batch the rows of all chunks through each weight matrix once. The K/V a chunk writes must not depend
//      on which other chunks share the pass (batched results equal running each sequence alone).
// Shared prefix blocks are written once, by the sequence that computed them, with the rope base of that
// pass (rope_length); reusing them is exact for models without dynamic-NTK scaling and for sequences that
// stay within max_position_embeddings.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/config.h"

namespace agentrt::engine {

// The keys and values of one sequence, for every layer. Created by a backend; only that backend reads it.
class KvCache {
 public:
  virtual ~KvCache() = default;
  // Positions stored so far (the next token's position).
  virtual int length() const = 0;
  // Forgets positions from `length` on (to reuse a shared prompt prefix).
  virtual void truncate(int length) = 0;
};

// Memory for a fixed number of KV blocks, made by a backend (see the top of this file).
class KvBlockStore {
 public:
  KvBlockStore(int blocks, int block_tokens) : blocks_(blocks), block_tokens_(block_tokens) {}
  virtual ~KvBlockStore() = default;
  int blocks() const { return blocks_; }
  int block_tokens() const { return block_tokens_; }
  // Bytes one block takes (K and V, all layers).
  virtual std::size_t block_bytes() const = 0;

 private:
  int blocks_;
  int block_tokens_;
};

// A sequence whose positions live in the blocks of a KvBlockStore, through its block table.
class PagedKvCache : public KvCache {
 public:
  explicit PagedKvCache(KvBlockStore& store) : store_(&store) {}
  int length() const override { return length_; }
  void truncate(int length) override {
    if (length < 0 || length > length_) throw std::invalid_argument("KvCache::truncate: length out of range");
    length_ = length;
  }
  KvBlockStore& store() const { return *store_; }
  // Block ids, one per block_tokens positions; must cover every position a forward pass writes.
  std::vector<int32_t>& block_table() { return table_; }
  const std::vector<int32_t>& block_table() const { return table_; }
  int capacity() const { return static_cast<int>(table_.size()) * store_->block_tokens(); }
  // Positions already held by the blocks (a prefix found in the prefix cache): they count as computed.
  void set_length(int length) {
    if (length < 0 || length > capacity()) throw std::invalid_argument("PagedKvCache: length past the table");
    length_ = length;
  }

 private:
  KvBlockStore* store_;
  std::vector<int32_t> table_;
  int length_ = 0;
};

enum class LogitsFor { Last, All };

// Part of a batched forward pass: `tokens` appended to `cache`.
struct ForwardChunk {
  KvCache* cache = nullptr;
  std::span<const int32_t> tokens;
  // The sequence length that sets the dynamic-NTK rope base (HF takes the whole prompt's length during a
  // prefill, the new length during a decode); 0: cache length + tokens.
  int64_t rope_length = 0;
  bool want_logits = false;  // logits [1, vocab] of the chunk's last token
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual const ModelConfig& config() const = 0;
  virtual std::unique_ptr<KvCache> new_cache() = 0;
  // Appends `tokens` to the sequence of `cache`. Writes logits [1, vocab] (Last) or [tokens.size(), vocab]
  // (All) into `logits`, which must be that large. Throws std::invalid_argument for ids outside the
  // vocabulary.
  virtual void prefill(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which,
                       std::span<float> logits) = 0;
  // One token for each of several sequences: tokens[i] is appended to caches[i]; logits [caches.size(),
  // vocab].
  virtual void decode(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
                      std::span<float> logits) = 0;

  // Paging (see the top of this file). Null: this backend has no paged cache.
  virtual std::unique_ptr<KvBlockStore> new_block_store(int /*blocks*/, int /*block_tokens*/) {
    return nullptr;
  }
  virtual std::unique_ptr<PagedKvCache> new_paged_cache(KvBlockStore& /*store*/) {
    throw std::invalid_argument(name() + ": no paged KV cache");
  }
  // All chunks in one pass; logits [number of chunks wanting logits, vocab], in chunk order. The default
  // runs them one after another through prefill() (ignoring rope_length).
  virtual void forward(std::span<const ForwardChunk> chunks, std::span<float> logits) {
    const std::size_t vocab = static_cast<std::size_t>(config().vocab_size);
    std::vector<float> scratch(vocab);
    std::size_t row = 0;
    for (const ForwardChunk& chunk : chunks) {
      if (chunk.tokens.empty()) throw std::invalid_argument("forward: a chunk without tokens");
      std::span<float> out =
          chunk.want_logits ? logits.subspan(row++ * vocab, vocab) : std::span<float>(scratch);
      prefill(*chunk.cache, chunk.tokens, LogitsFor::Last, out);
    }
  }
};

}  // namespace agentrt::engine
