#include "engine/serving/scheduler.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace agentrt::engine::serving {
namespace {

using Clock = std::chrono::steady_clock;

// Also settles o.blocks when the pool is given in bytes.
std::unique_ptr<KvBlockStore> make_store(Backend& backend, SchedulerOptions& o) {
  if (o.kv_bytes > 0 && o.block_tokens > 0) {
    // A one-block store says what a block costs on this backend.
    const auto probe = backend.new_block_store(1, o.block_tokens);
    if (!probe)
      throw std::invalid_argument("scheduler: backend " + backend.name() + " has no paged KV cache");
    o.blocks = static_cast<int>(std::min<std::size_t>(o.kv_bytes / probe->block_bytes(), 1u << 30));
    if (o.blocks <= 0) {
      throw std::invalid_argument("scheduler: a KV pool of " + std::to_string(o.kv_bytes) +
                                  " bytes holds no block of " + std::to_string(probe->block_bytes()) +
                                  " bytes");
    }
  }
  if (o.block_tokens <= 0 || o.blocks <= 0)
    throw std::invalid_argument("scheduler: blocks and block size must be > 0");
  if (o.max_step_tokens <= 0 || o.max_running <= 0) {
    throw std::invalid_argument("scheduler: max_step_tokens and max_running must be > 0");
  }
  auto store = backend.new_block_store(o.blocks, o.block_tokens);
  if (!store) throw std::invalid_argument("scheduler: backend " + backend.name() + " has no paged KV cache");
  return store;
}

int blocks_for(std::size_t positions, int block_tokens) {
  return static_cast<int>((positions + block_tokens - 1) / block_tokens);
}

}  // namespace

struct Scheduler::Sequence {
  Id id = 0;
  std::vector<int32_t> prompt;
  GenerateOptions options;  // GenerationState points here: a Sequence never moves (held by unique_ptr)
  std::unique_ptr<GenerationState> state;
  TokenCallback on_token;
  DoneCallback on_done;
  std::unique_ptr<PagedKvCache> cache;
  std::vector<uint64_t> hashes;  // chain hash of each registered full block of the table
  int reserve_left = 0;          // blocks this request may still allocate
  Clock::time_point added, first_token;
  bool has_first_token = false;

  int computed() const { return cache->length(); }
  bool prefilling() const { return computed() < static_cast<int>(prompt.size()); }
};

Scheduler::Scheduler(Backend& backend, const Tokenizer& tokenizer, const SchedulerOptions& options)
    : backend_(&backend),
      tokenizer_(&tokenizer),
      options_(options),
      store_(make_store(backend, options_)),
      allocator_(options_.blocks, options_.block_tokens) {}

Scheduler::~Scheduler() = default;

Scheduler::Id Scheduler::add(std::vector<int32_t> prompt, const GenerateOptions& options,
                             TokenCallback on_token, DoneCallback on_done) {
  const int vocab = backend_->config().vocab_size;
  for (const int32_t id : prompt) {
    if (id < 0 || id >= vocab) {
      throw std::invalid_argument("token id " + std::to_string(id) + " is outside the vocabulary of " +
                                  std::to_string(vocab));
    }
  }
  auto seq = std::make_unique<Sequence>();
  seq->prompt = std::move(prompt);
  seq->options = options;
  seq->state = std::make_unique<GenerationState>(*tokenizer_, seq->prompt, seq->options);  // validates
  const std::size_t worst = seq->prompt.size() + static_cast<std::size_t>(seq->options.max_tokens);
  const int need = blocks_for(worst, options_.block_tokens);
  if (need > allocator_.total()) {
    throw std::invalid_argument(
        "the request can never fit in the KV cache: " + std::to_string(seq->prompt.size()) +
        " prompt tokens + max_tokens " + std::to_string(seq->options.max_tokens) + " need " +
        std::to_string(need) + " blocks of " + std::to_string(options_.block_tokens) +
        " positions, the cache has " + std::to_string(allocator_.total()));
  }
  seq->on_token = std::move(on_token);
  seq->on_done = std::move(on_done);
  seq->cache = backend_->new_paged_cache(*store_);
  seq->added = Clock::now();
  seq->id = next_id_++;
  waiting_.push_back(std::move(seq));
  return waiting_.back()->id;
}

void Scheduler::cancel(Id id) {
  for (auto* list : {&waiting_, &running_}) {
    for (auto it = list->begin(); it != list->end(); ++it) {
      if ((*it)->id != id) continue;
      if (list == &waiting_) {
        // Never admitted: holds no blocks and no reservation.
        auto seq = std::move(*it);
        waiting_.erase(it);
        seq->state->finish("cancelled");
        if (seq->on_done) seq->on_done(std::move(seq->state->result()), {});
      } else {
        finish(it, "cancelled");
      }
      return;
    }
  }
}

void Scheduler::cancel_all() {
  while (!running_.empty()) cancel(running_.front()->id);
  while (!waiting_.empty()) cancel(waiting_.front()->id);
}

void Scheduler::admit() {
  // Every running decode gets its token in every step, so no more run than a step has tokens.
  const int max_running = std::min(options_.max_running, options_.max_step_tokens);
  while (!waiting_.empty() && static_cast<int>(running_.size()) < max_running) {
    Sequence& seq = *waiting_.front();
    if (seq.options.max_tokens == 0) {
      // Nothing to generate (Generator does not even prefill).
      auto done = std::move(waiting_.front());
      waiting_.pop_front();
      done->state->finish();
      if (done->on_done) done->on_done(std::move(done->state->result()), {});
      continue;
    }
    // At least one prompt token is always computed here, so that its logits exist: a fully cached prompt
    // still recomputes its last block's worth at most.
    const int max_hit_blocks = static_cast<int>(seq.prompt.size() - 1) / options_.block_tokens;
    std::vector<uint64_t> hashes;
    std::vector<int32_t> hit;
    if (options_.prefix_cache) hit = allocator_.lookup(seq.prompt, max_hit_blocks, hashes);
    const int worst = blocks_for(seq.prompt.size() + static_cast<std::size_t>(seq.options.max_tokens),
                                 options_.block_tokens);
    const int need = worst - static_cast<int>(hit.size());
    const int available = allocator_.available() - allocator_.unreferenced(hit) - reserved_;
    if (need > available) break;  // first come, first served: later requests wait too
    for (const int32_t b : hit) allocator_.retain(b);
    seq.cache->block_table() = hit;
    seq.cache->set_length(static_cast<int>(hit.size()) * options_.block_tokens);
    seq.hashes = std::move(hashes);
    seq.reserve_left = need;
    reserved_ += need;
    counters_.prefix_lookup_tokens += static_cast<long long>(seq.prompt.size());
    counters_.prefix_hit_tokens += static_cast<long long>(hit.size()) * options_.block_tokens;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

void Scheduler::grow_table(Sequence& seq, int positions) {
  while (seq.cache->capacity() < positions) {
    if (seq.reserve_left <= 0) throw std::logic_error("scheduler: a request outgrew its reservation");
    seq.cache->block_table().push_back(allocator_.allocate());
    --seq.reserve_left;
    --reserved_;
  }
}

void Scheduler::register_full_blocks(Sequence& seq) {
  if (!options_.prefix_cache) return;
  const auto& tokens = seq.state->context();
  const int bt = options_.block_tokens;
  const int full = std::min(seq.computed(), static_cast<int>(tokens.size())) / bt;
  for (int b = static_cast<int>(seq.hashes.size()); b < full; ++b) {
    const std::span<const int32_t> part(tokens.data() + static_cast<std::size_t>(b) * bt, bt);
    const uint64_t h = chain_hash(b == 0 ? 0 : seq.hashes[b - 1], part);
    allocator_.register_full(seq.cache->block_table()[b], h, part);
    seq.hashes.push_back(h);
  }
}

void Scheduler::release_blocks(Sequence& seq) {
  // Tail first: the end of a sequence is the least likely part to be shared again, so it is evicted first.
  auto& table = seq.cache->block_table();
  for (auto it = table.rbegin(); it != table.rend(); ++it) allocator_.release(*it);
  table.clear();
  seq.cache->truncate(0);
  reserved_ -= seq.reserve_left;
  seq.reserve_left = 0;
}

void Scheduler::finish(std::list<std::unique_ptr<Sequence>>::iterator it, const std::string& reason,
                       const std::string& error) {
  auto seq = std::move(*it);
  running_.erase(it);
  release_blocks(*seq);
  const auto tail = seq->state->finish(reason);
  if (tail && seq->on_token && error.empty()) seq->on_token(*tail);
  GenerateResult result = std::move(seq->state->result());
  const auto now = Clock::now();
  const auto first = seq->has_first_token ? seq->first_token : now;
  result.prefill_seconds = std::chrono::duration<double>(first - seq->added).count();
  result.decode_seconds = std::chrono::duration<double>(now - first).count();
  if (seq->on_done) seq->on_done(std::move(result), error);
}

bool Scheduler::step() {
  admit();
  if (running_.empty()) return false;

  // Decodes first (one token each), then prefill chunks in admission order while the budget lasts.
  std::vector<ForwardChunk> chunks;
  std::vector<Sequence*> members;
  std::vector<int32_t> decode_tokens;
  decode_tokens.reserve(running_.size());
  int budget = options_.max_step_tokens;
  for (auto& seq : running_) {
    if (seq->prefilling() || budget <= 0) continue;
    decode_tokens.push_back(seq->state->context().back());
    grow_table(*seq, seq->computed() + 1);
    chunks.push_back(
        ForwardChunk{seq->cache.get(), std::span<const int32_t>(&decode_tokens.back(), 1), 0, true});
    members.push_back(seq.get());
    --budget;
  }
  for (auto& seq : running_) {
    if (!seq->prefilling() || budget <= 0) continue;
    const int start = seq->computed();
    const int n = std::min(budget, static_cast<int>(seq->prompt.size()) - start);
    grow_table(*seq, start + n);
    const bool last = start + n == static_cast<int>(seq->prompt.size());
    // HF sets the dynamic-NTK base from the whole prompt during a prefill; so does every chunk of it.
    chunks.push_back(ForwardChunk{seq->cache.get(), std::span<const int32_t>(seq->prompt.data() + start, n),
                                  static_cast<int64_t>(seq->prompt.size()), last});
    members.push_back(seq.get());
    budget -= n;
  }

  const std::size_t vocab = static_cast<std::size_t>(backend_->config().vocab_size);
  const auto wanting =
      std::count_if(chunks.begin(), chunks.end(), [](const ForwardChunk& c) { return c.want_logits; });
  logits_.resize(static_cast<std::size_t>(wanting) * vocab);
  try {
    backend_->forward(chunks, logits_);
  } catch (const std::exception& e) {
    // Inputs were checked when added, so this is the engine failing: every request in the pass ends with it.
    for (Sequence* seq : members) {
      const auto it =
          std::find_if(running_.begin(), running_.end(), [&](const auto& s) { return s.get() == seq; });
      finish(it, "error", e.what());
    }
    return true;
  }
  ++counters_.steps;
  for (const ForwardChunk& c : chunks) counters_.tokens_forwarded += static_cast<long long>(c.tokens.size());

  std::size_t row = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    Sequence& seq = *members[i];
    register_full_blocks(seq);
    if (!chunks[i].want_logits) continue;
    const std::span<float> logits(logits_.data() + row++ * vocab, vocab);
    const auto it =
        std::find_if(running_.begin(), running_.end(), [&](const auto& s) { return s.get() == &seq; });
    GenerationState::Step next;
    try {
      next = seq.state->push(seq.state->choose(logits));
    } catch (const std::exception& e) {
      // A request's own logits processor failed: that request ends, the others go on.
      finish(it, "error", e.what());
      continue;
    }
    if (!seq.has_first_token) {
      seq.has_first_token = true;
      seq.first_token = Clock::now();
    }
    bool keep_going = true;
    if (next.emit && seq.on_token) keep_going = seq.on_token(next.event);
    const bool done = next.stopped || seq.state->done_generating();
    if (done || !keep_going) finish(it, done ? std::string() : std::string("cancelled"));
  }
  return true;
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s = counters_;
  s.waiting = static_cast<int>(waiting_.size());
  s.running = static_cast<int>(running_.size());
  s.blocks_total = allocator_.total();
  s.blocks_used = allocator_.used_count();
  s.blocks_cached = allocator_.cached_count();
  return s;
}

}  // namespace agentrt::engine::serving
