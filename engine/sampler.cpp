#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace agentrt::engine {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

void validate(const SamplingParams& p) {
  const auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) bad("temperature must be >= 0");
  if (p.top_k < 0) bad("top_k must be >= 0");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) bad("top_p must be in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) bad("min_p must be in [0, 1]");
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty))
    bad("repetition_penalty must be > 0");
  if (!std::isfinite(p.presence_penalty)) bad("presence_penalty must be finite");
}

Sampler::Sampler(const SamplingParams& params) : params_(params) {
  validate(params);
  uint64_t seed = params.seed;
  for (auto& s : state_) s = splitmix64(seed);
}

double Sampler::next_uniform() {
  // xoshiro256**
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return static_cast<double>(result >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> context,
                        std::span<const int32_t> generated) {
  const int n = static_cast<int>(logits.size());
  if (n == 0) throw std::invalid_argument("sampler: empty logits");
  if (params_.repetition_penalty != 1.0f) {
    seen_.assign(n, 0);
    for (const int32_t id : context) {
      if (id >= 0 && id < n) seen_[id] = 1;
    }
    for (int id = 0; id < n; ++id) {
      if (!seen_[id]) continue;
      logits[id] =
          logits[id] > 0 ? logits[id] / params_.repetition_penalty : logits[id] * params_.repetition_penalty;
    }
  }
  if (params_.presence_penalty != 0.0f) {
    seen_.assign(n, 0);
    for (const int32_t id : generated) {
      if (id >= 0 && id < n && !seen_[id]) {
        seen_[id] = 1;
        logits[id] -= params_.presence_penalty;
      }
    }
  }
  if (params_.temperature == 0.0f) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates by falling logit (ties: lower id first, so results do not depend on the sort).
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), 0);
  const auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  int keep = n;
  if (params_.top_k > 0 && params_.top_k < n) {
    keep = params_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), by_logit);
  } else {
    std::sort(order_.begin(), order_.end(), by_logit);
  }
  probs_.resize(keep);
  const float top = logits[order_[0]];
  double sum = 0.0;
  for (int i = 0; i < keep; ++i) {
    probs_[i] = std::exp((logits[order_[i]] - top) / params_.temperature);
    sum += probs_[i];
  }
  // min-p: relative to the top probability (probs_[0] is exp(0) = 1 before normalising).
  if (params_.min_p > 0.0f) {
    int kept = 1;
    while (kept < keep && probs_[kept] >= params_.min_p * probs_[0]) ++kept;
    for (int i = kept; i < keep; ++i) sum -= probs_[i];
    keep = kept;
  }
  if (params_.top_p < 1.0f) {
    double cumulative = 0.0;
    int kept = 0;
    while (kept < keep) {
      cumulative += probs_[kept++] / sum;
      if (cumulative >= params_.top_p) break;
    }
    sum = 0.0;
    for (int i = 0; i < kept; ++i) sum += probs_[i];
    keep = kept;
  }
  double target = next_uniform() * sum;
  for (int i = 0; i < keep; ++i) {
    target -= probs_[i];
    if (target < 0.0) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace agentrt::engine
