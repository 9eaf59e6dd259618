// Picks the next token from logits: penalties, then greedy (temperature 0) or temperature / top-k / min-p /
// top-p sampling from a seeded generator, so equal seeds give equal outputs on every machine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace agentrt::engine {

struct SamplingParams {
  float temperature = 0.0f;         // 0: greedy
  int top_k = 0;                    // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off; drops tokens below min_p * the top probability
  float repetition_penalty = 1.0f;  // HF/CTRL: divides positive, multiplies negative logits of seen tokens
  float presence_penalty = 0.0f;    // OpenAI: subtracted once from the logit of every generated token
  uint64_t seed = 0;
};

// Throws std::invalid_argument naming the bad parameter.
void validate(const SamplingParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // `logits` is modified. `context` are the prompt and generated tokens (repetition penalty), `generated` the
  // generated ones (presence penalty).
  int32_t sample(std::span<float> logits, std::span<const int32_t> context,
                 std::span<const int32_t> generated);

 private:
  double next_uniform();  // [0, 1)

  SamplingParams params_;
  uint64_t state_[4];
  std::vector<int32_t> order_;
  std::vector<float> probs_;
  std::vector<uint8_t> seen_;
};

}  // namespace agentrt::engine
