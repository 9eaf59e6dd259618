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

GenerateResult Generator::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                   const TokenCallback& on_token) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  if (options.max_tokens < 0) throw std::invalid_argument("generate: max_tokens must be >= 0");
  for (const auto& stop : options.stop_strings) {
    if (stop.empty()) throw std::invalid_argument("generate: empty stop string");
  }
  Sampler sampler(options.sampling);
  const int vocab = backend_->config().vocab_size;
  GenerateResult result;
  result.prompt_tokens = static_cast<int>(prompt.size());
  std::vector<int32_t> context(prompt.begin(), prompt.end());
  std::vector<float> logits(vocab);
  auto cache = backend_->new_cache();
  StreamDecoder decoder(*tokenizer_);
  std::string all;           // decoded text so far
  std::size_t released = 0;  // bytes of `all` handed out

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  if (options.max_tokens > 0) backend_->prefill(*cache, prompt, LogitsFor::Last, logits);
  const auto t1 = Clock::now();
  result.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  result.finish_reason = "length";

  for (int step = 0; step < options.max_tokens; ++step) {
    if (step > 0) {
      KvCache* caches[] = {cache.get()};
      const int32_t last[] = {context.back()};
      backend_->decode(caches, last, logits);
    }
    if (options.logits_processor != nullptr) options.logits_processor->process(logits);
    const int32_t id = sampler.sample(logits, context, result.ids);
    if (options.logits_processor != nullptr) options.logits_processor->accept(id);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), id) != options.stop_ids.end()) {
      result.finish_reason = "stop";
      result.stop = tokenizer_->token_text(id);
      break;
    }
    context.push_back(id);
    result.ids.push_back(id);
    all += decoder.push(id);

    TokenEvent event{id, {}};
    bool stopped = false;
    for (const auto& stop : options.stop_strings) {
      const std::size_t from = released > stop.size() ? released - stop.size() : 0;
      const std::size_t at = all.find(stop, from);
      if (at != std::string::npos) {
        event.text = all.substr(released, at > released ? at - released : 0);
        all.resize(at);
        released = std::max(released, at);
        result.finish_reason = "stop";
        result.stop = stop;
        stopped = true;
        break;
      }
    }
    if (!stopped) {
      const std::size_t hold = held_suffix(all, released, options.stop_strings);
      event.text = all.substr(released, all.size() - hold - released);
      released = all.size() - hold;
    }
    const bool keep_going = !on_token || on_token(event);
    if (stopped) break;
    if (!keep_going) {
      result.finish_reason = "cancelled";
      break;
    }
  }
  if (result.finish_reason != "stop" || result.stop.empty() ||
      std::find(options.stop_strings.begin(), options.stop_strings.end(), result.stop) ==
          options.stop_strings.end()) {
    // Not ended by a stop string: what was held back (an unfinished stop-string prefix or character) is
    // final.
    all += decoder.finish();
    if (released < all.size()) {
      TokenEvent tail{-1, all.substr(released)};
      released = all.size();
      if (on_token) on_token(tail);
    }
  }
  result.text = all.substr(0, released);
  result.completion_tokens = static_cast<int>(result.ids.size());
  result.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return result;
}

}  // namespace agentrt::engine
