// Continuous batching over a paged KV cache. Each step() is one forward pass over every running request:
// the decoding ones contribute one token each, then prompts still being prefilled contribute chunks up to
// the step's token budget (chunked prefill: a long prompt is spread over several steps and never stalls the
// running decodes). Requests join at the start of any step and leave at the end of any step.
//
// Memory: a request is admitted only when the pool can hold its worst case (prompt + max_tokens) on top of
// what the running requests may still claim, so a running request never runs out of blocks; one that could
// not fit even in an empty pool is refused when it is added. Prompts re-use the longest cached prefix of
// whole blocks (BlockAllocator), so only the tail is prefilled.
//
// Single-threaded: ServingEngine runs it on its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/generate.h"
#include "engine/serving/block_allocator.h"

namespace agentrt::engine::serving {

struct SchedulerOptions {
  int block_tokens = 16;  // positions per KV block
  int blocks = 1024;      // KV blocks in the pool
  std::size_t kv_bytes =
      0;  // when > 0, the pool is this many bytes instead (blocks = kv_bytes / block bytes)
  int max_step_tokens = 256;  // tokens of one forward pass (decodes first, then prefill chunks)
  int max_running = 64;       // requests decoding or prefilling at once (at most max_step_tokens)
  bool prefix_cache = true;
};

struct SchedulerStats {
  int waiting = 0;
  int running = 0;
  int blocks_total = 0;
  int blocks_used = 0;                 // referenced by a request
  int blocks_cached = 0;               // unreferenced, kept for the prefix cache
  long long prefix_lookup_tokens = 0;  // prompt tokens of admitted requests
  long long prefix_hit_tokens = 0;     // of those, found in the prefix cache (not prefilled)
  long long steps = 0;
  long long tokens_forwarded = 0;  // rows through the model
};

class Scheduler {
 public:
  using Id = uint64_t;
  // Called on the scheduler's thread. on_token returning false cancels the request.
  using DoneCallback = std::function<void(GenerateResult&& result, const std::string& error)>;

  // Throws std::invalid_argument when the backend has no paged cache or the options are bad.
  Scheduler(Backend& backend, const Tokenizer& tokenizer, const SchedulerOptions& options);
  ~Scheduler();

  // Queues a request. Throws std::invalid_argument (nothing queued) for an empty prompt, ids outside the
  // vocabulary, bad sampling parameters, or a request that could never fit in the KV pool.
  Id add(std::vector<int32_t> prompt, const GenerateOptions& options, TokenCallback on_token,
         DoneCallback on_done);
  // Ends a request now (finish_reason "cancelled"), waiting or running; its blocks return at once. Unknown
  // or finished ids are ignored.
  void cancel(Id id);
  // Cancels every request (shutting down).
  void cancel_all();
  // One forward pass. Returns false when there was nothing to do.
  bool step();
  bool idle() const { return waiting_.empty() && running_.empty(); }
  SchedulerStats stats() const;
  const BlockAllocator& blocks() const { return allocator_; }

 private:
  struct Sequence;
  void admit();
  void finish(std::list<std::unique_ptr<Sequence>>::iterator it, const std::string& reason,
              const std::string& error = {});
  void grow_table(Sequence& seq, int positions);
  void register_full_blocks(Sequence& seq);
  void release_blocks(Sequence& seq);

  Backend* backend_;
  const Tokenizer* tokenizer_;
  SchedulerOptions options_;
  std::unique_ptr<KvBlockStore> store_;
  BlockAllocator allocator_;
  std::list<std::unique_ptr<Sequence>> waiting_;  // arrival order
  std::list<std::unique_ptr<Sequence>> running_;  // admission order
  int reserved_ = 0;                              // blocks running requests may still allocate
  Id next_id_ = 1;
  SchedulerStats counters_;
  std::vector<float> logits_;  // [rows wanting logits, vocab]
};

}  // namespace agentrt::engine::serving
