// The compute interface every backend implements (CPU now, CUDA next): run tokens through the model against a
// per-sequence KV cache and produce logits. Backends own their weights' device copies and their caches'
// memory; callers see caches only as handles.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

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

enum class LogitsFor { Last, All };

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
};

}  // namespace agentrt::engine
