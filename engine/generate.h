// Streaming generation: prefill the prompt, then sample one token per step, releasing text as it becomes
// final (never half a UTF-8 character, never the start of what may still become a stop string).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/logits_processor.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

namespace agentrt::engine {

struct GenerateOptions {
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;          // a sampled stop id ends generation and is not part of the output
  std::vector<std::string> stop_strings;  // the output ends before the first occurrence of any of these
  // Sees the logits of every step before penalties and sampling, and every chosen token (stop ids too).
  // Not owned; may be null.
  LogitsProcessor* logits_processor = nullptr;
};

// One generated token and the text released with it (possibly empty while text is held back). The last event
// of a generation may carry id -1: text released at the end that belongs to no new token.
struct TokenEvent {
  int32_t id = -1;
  std::string text;
};

struct GenerateResult {
  std::vector<int32_t> ids;   // generated ids, without a stop id
  std::string text;           // the released text
  std::string finish_reason;  // "stop" | "length" | "cancelled"
  std::string stop;           // the stop string or stop token's text when finish_reason is "stop"
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

// Return false to stop (finish_reason "cancelled").
using TokenCallback = std::function<bool(const TokenEvent&)>;

// One generation's state apart from its KV cache: the sampler, the logits processor, the stop conditions and
// the text released so far. Generator drives one; the serving engine drives many, one per request.
class GenerationState {
 public:
  // Throws std::invalid_argument for an empty prompt, bad sampling parameters or an empty stop string.
  GenerationState(const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                  const GenerateOptions& options);

  // Picks the next token from logits [vocab] (modified): logits processor, penalties, sampling.
  int32_t choose(std::span<float> logits);
  struct Step {
    bool emit = false;  // hand `event` to the caller
    TokenEvent event;
    bool stopped = false;  // a stop id or stop string ended the generation here
  };
  // Takes the chosen token: ends at a stop id, else releases the text that became final.
  Step push(int32_t id);
  // The generation ends (length, cancellation, or a stop): the text still held back, unless a stop string
  // ended it. Sets finish_reason "length" unless it was already set; pass "cancelled" to override.
  std::optional<TokenEvent> finish(const std::string& reason = {});

  const std::vector<int32_t>& context() const { return context_; }  // prompt and generated ids
  const GenerateOptions& options() const { return *options_; }
  bool done_generating() const {
    return stopped_ || static_cast<int>(result_.ids.size()) >= options_->max_tokens;
  }
  GenerateResult& result() { return result_; }

 private:
  const Tokenizer* tokenizer_;
  const GenerateOptions* options_;
  Sampler sampler_;
  std::vector<int32_t> context_;
  StreamDecoder decoder_;
  std::string all_;           // decoded text so far
  std::size_t released_ = 0;  // bytes of all_ handed out
  bool stopped_ = false;
  GenerateResult result_;
};

class Generator {
 public:
  Generator(Backend& backend, const Tokenizer& tokenizer) : backend_(&backend), tokenizer_(&tokenizer) {}
  // Throws std::invalid_argument for an empty prompt, bad ids or bad sampling parameters.
  GenerateResult generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                          const TokenCallback& on_token = {});

 private:
  Backend* backend_;
  const Tokenizer* tokenizer_;
};

}  // namespace agentrt::engine
