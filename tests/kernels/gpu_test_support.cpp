#include "tests/kernels/gpu_test_support.h"

#include <cmath>
#include <limits>

#include "engine/dtype.h"

namespace agentrt::engine::cuda::testing {

std::vector<uint16_t> random_bf16(std::size_t n, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<uint16_t> out(n);
  for (auto& v : out) v = f32_to_bf16(dist(rng));
  return out;
}

std::vector<float> random_f32(std::size_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (auto& v : out) v = dist(rng);
  return out;
}

std::vector<float> bf16_values(const std::vector<uint16_t>& bits) {
  std::vector<float> out(bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i) out[i] = engine::bf16_to_f32(bits[i]);
  return out;
}

double relative_error(const std::vector<float>& out, const std::vector<float>& ref) {
  if (out.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double d = static_cast<double>(out[i]) - ref[i];
    diff += d * d;
    norm += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

WorstRow worst_row_error(const std::vector<float>& out, const std::vector<float>& ref, std::size_t row_size) {
  WorstRow worst;
  if (out.size() != ref.size() || row_size == 0 || out.size() % row_size != 0) {
    worst.error = std::numeric_limits<double>::infinity();
    return worst;
  }
  for (std::size_t r = 0; r * row_size < out.size(); ++r) {
    const auto at = static_cast<std::ptrdiff_t>(r * row_size),
               end = at + static_cast<std::ptrdiff_t>(row_size);
    const double error = relative_error(std::vector<float>(out.begin() + at, out.begin() + end),
                                        std::vector<float>(ref.begin() + at, ref.begin() + end));
    if (!(error <= worst.error) || r == 0) {  // NaN sticks
      worst.error = error;
      worst.row = r;
      if (std::isnan(error)) break;
    }
  }
  return worst;
}

}  // namespace agentrt::engine::cuda::testing
