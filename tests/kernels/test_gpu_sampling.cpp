// Greedy and top-k/top-p sampling on the GPU against a host reference that sorts the vocabulary.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

class SamplingTest : public GpuTest {
 protected:
  std::mt19937 rng{5};
};

TEST_F(SamplingTest, ArgmaxPicksTheFirstLargestLogitOfEachRow) {
  for (const int vocab : {1, 5, 1001, 92544}) {
    const int rows = 7;
    auto logits = random_f32(static_cast<std::size_t>(rows) * vocab, -10.0f, 10.0f, rng);
    // Row 1 ties its maximum at two places; row 2 is all equal.
    if (vocab > 3) {
      auto* row1 = &logits[vocab];
      const float top = *std::max_element(row1, row1 + vocab) + 1.0f;
      row1[vocab - 1] = top;
      row1[2] = top;
      std::fill_n(&logits[2 * static_cast<std::size_t>(vocab)], vocab, 0.5f);
    }
    std::vector<int32_t> ref;
    for (int r = 0; r < rows; ++r) {
      const float* row = &logits[static_cast<std::size_t>(r) * vocab];
      ref.push_back(static_cast<int32_t>(std::max_element(row, row + vocab) - row));
    }
    auto dl = to_device<float>(logits);
    auto dout = poisoned<int32_t>(rows);
    ASSERT_EQ(kernels::argmax_rows(dl.get(), dout.get(), rows, vocab, nullptr), cudaSuccess);
    EXPECT_EQ(to_host<int32_t>(dout), ref) << "vocab " << vocab;
  }
}

// The kept set (top-k, then the fewest largest reaching top_p of their mass) and the cumulative mass interval
// in index order of each kept token, in fp64.
struct Reference {
  std::vector<bool> kept;
  std::vector<double> before, after;  // normalised cumulative mass before / after each token
};

Reference reference(const float* logits, int vocab, float temperature, int top_k, float top_p) {
  std::vector<double> x(vocab);
  for (int i = 0; i < vocab; ++i) x[i] = static_cast<double>(logits[i]) / temperature;
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return x[a] > x[b]; });
  const int k = top_k > 0 ? std::min(top_k, vocab) : vocab;
  const double max_x = x[order[0]];
  double mass = 0;
  for (int i = 0; i < k; ++i) mass += std::exp(x[order[i]] - max_x);
  Reference ref;
  ref.kept.assign(vocab, false);
  double running = 0;
  for (int i = 0; i < k; ++i) {
    ref.kept[order[i]] = true;
    running += std::exp(x[order[i]] - max_x);
    if (top_p < 1.0f && running >= top_p * mass) break;
  }
  double kept_mass = 0;
  for (int i = 0; i < vocab; ++i) kept_mass += ref.kept[i] ? std::exp(x[i] - max_x) : 0.0;
  ref.before.resize(vocab);
  ref.after.resize(vocab);
  running = 0;
  for (int i = 0; i < vocab; ++i) {
    ref.before[i] = running / kept_mass;
    if (ref.kept[i]) running += std::exp(x[i] - max_x);
    ref.after[i] = running / kept_mass;
  }
  return ref;
}

TEST_F(SamplingTest, TopKTopPKeepsTheRightTokensAndFollowsTheDraw) {
  struct Case {
    int vocab;
    float temperature;
    int top_k;
    float top_p;
  };
  const Case cases[] = {{92544, 1.0f, 0, 1.0f}, {92544, 0.7f, 40, 1.0f}, {92544, 1.0f, 0, 0.9f},
                        {1001, 1.3f, 50, 0.8f}, {7, 1.0f, 3, 0.5f},      {512, 0.5f, 1, 1.0f}};
  for (const Case& c : cases) {
    const int rows = 16;
    const auto logits = random_f32(static_cast<std::size_t>(rows) * c.vocab, -8.0f, 8.0f, rng);
    const auto uniform = random_f32(rows, 0.0f, 1.0f, rng);
    auto dl = to_device<float>(logits);
    auto du = to_device<float>(uniform);
    auto dout = poisoned<int32_t>(rows);
    ASSERT_EQ(kernels::sample_top_k_top_p(dl.get(), du.get(), dout.get(), rows, c.vocab, c.temperature,
                                          c.top_k, c.top_p, nullptr),
              cudaSuccess);
    const auto picked = to_host<int32_t>(dout);
    for (int r = 0; r < rows; ++r) {
      const auto ref =
          reference(&logits[static_cast<std::size_t>(r) * c.vocab], c.vocab, c.temperature, c.top_k, c.top_p);
      const int32_t token = picked[r];
      ASSERT_GE(token, 0);
      ASSERT_LT(token, c.vocab);
      EXPECT_TRUE(ref.kept[token]) << "vocab " << c.vocab << " row " << r;
      // The draw falls in the picked token's interval (up to fp32 rounding of the running sums).
      EXPECT_GE(uniform[r], ref.before[token] - 1e-4);
      EXPECT_LE(uniform[r], ref.after[token] + 1e-4);
    }
  }
}

TEST_F(SamplingTest, BadParametersAreRefused) {
  EXPECT_EQ(kernels::sample_top_k_top_p(nullptr, nullptr, nullptr, 1, 8, 0.0f, 0, 1.0f, nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(kernels::sample_top_k_top_p(nullptr, nullptr, nullptr, 1, 8, 1.0f, 0, 0.0f, nullptr),
            cudaErrorInvalidValue);
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
