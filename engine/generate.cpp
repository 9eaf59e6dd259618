#include "engine/generate.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace agentrt::engine {
namespace {

// Length of the longest suffix of `text` that is a proper prefix of one of `stops`.
std::size_t held_suffix(const std::string& text, std::size_t from, const std::vector<std::string>& stops) {
  std::size_t hold = 0;
  for (const auto& stop : stops) {
    const std::size_t max_len = std::min(stop.size() - 1, text.size() - from);
    for (std::size_t len = max_len; len > hold; --len) {
      if (text.compare(text.size() - len, len, stop, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

GenerationState::GenerationState(const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                                 const GenerateOptions& options)
    : tokenizer_(&tokenizer),
      options_(&options),
      sampler_(options.sampling),
      context_(prompt.begin(), prompt.end()),
      decoder_(tokenizer) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  if (options.max_tokens < 0) throw std::invalid_argument("generate: max_tokens must be >= 0");
  for (const auto& stop : options.stop_strings) {
    if (stop.empty()) throw std::invalid_argument("generate: empty stop string");
  }
  result_.prompt_tokens = static_cast<int>(prompt.size());
}

int32_t GenerationState::choose(std::span<float> logits) {
  if (options_->logits_processor != nullptr) options_->logits_processor->process(logits);
  const int32_t id = sampler_.sample(logits, context_, result_.ids);
  if (options_->logits_processor != nullptr) options_->logits_processor->accept(id);
  return id;
}

GenerationState::Step GenerationState::push(int32_t id) {
  Step step;
  const auto& stop_ids = options_->stop_ids;
  if (std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end()) {
    result_.finish_reason = "stop";
    result_.stop = tokenizer_->token_text(id);
    stopped_ = step.stopped = true;
    return step;
  }
  context_.push_back(id);
  result_.ids.push_back(id);
  all_ += decoder_.push(id);
  step.emit = true;
  step.event.id = id;
  for (const auto& stop : options_->stop_strings) {
    const std::size_t from = released_ > stop.size() ? released_ - stop.size() : 0;
    const std::size_t at = all_.find(stop, from);
    if (at != std::string::npos) {
      step.event.text = all_.substr(released_, at > released_ ? at - released_ : 0);
      all_.resize(at);
      released_ = std::max(released_, at);
      result_.finish_reason = "stop";
      result_.stop = stop;
      stopped_ = step.stopped = true;
      return step;
    }
  }
  const std::size_t hold = held_suffix(all_, released_, options_->stop_strings);
  step.event.text = all_.substr(released_, all_.size() - hold - released_);
  released_ = all_.size() - hold;
  return step;
}

std::optional<TokenEvent> GenerationState::finish(const std::string& reason) {
  if (!reason.empty()) {
    result_.finish_reason = reason;
  } else if (result_.finish_reason.empty()) {
    result_.finish_reason = "length";
  }
  const auto& stops = options_->stop_strings;
  std::optional<TokenEvent> tail;
  if (result_.finish_reason != "stop" || result_.stop.empty() ||
      std::find(stops.begin(), stops.end(), result_.stop) == stops.end()) {
    // Not ended by a stop string: what was held back (an unfinished stop-string prefix or character) is
    // final.
    all_ += decoder_.finish();
    if (released_ < all_.size()) {
      tail = TokenEvent{-1, all_.substr(released_)};
      released_ = all_.size();
    }
  }
  result_.text = all_.substr(0, released_);
  result_.completion_tokens = static_cast<int>(result_.ids.size());
  return tail;
}

GenerateResult Generator::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                   const TokenCallback& on_token) {
  GenerationState state(*tokenizer_, prompt, options);
  const int vocab = backend_->config().vocab_size;
  std::vector<float> logits(vocab);
  auto cache = backend_->new_cache();

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  if (options.max_tokens > 0) backend_->prefill(*cache, prompt, LogitsFor::Last, logits);
  const auto t1 = Clock::now();
  std::string reason;
  for (int step = 0; step < options.max_tokens; ++step) {
    if (step > 0) {
      KvCache* caches[] = {cache.get()};
      const int32_t last[] = {state.context().back()};
      backend_->decode(caches, last, logits);
    }
    const GenerationState::Step next = state.push(state.choose(logits));
    if (!next.emit) break;
    const bool keep_going = !on_token || on_token(next.event);
    if (next.stopped) break;
    if (!keep_going) {
      reason = "cancelled";
      break;
    }
  }
  const auto tail = state.finish(reason);
  if (tail && on_token) on_token(*tail);
  GenerateResult result = std::move(state.result());
  result.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  result.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return result;
}

}  // namespace agentrt::engine
