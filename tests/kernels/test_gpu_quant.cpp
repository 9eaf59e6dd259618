// The W8A16 and W4A16 products against a dequantize-then-multiply reference on the host: random int8 / int4
// weights with their scales (and zero points), batches 1 to 8 through the GEMV kernels and 9 to 33 through
// dequantization + cuBLASLt, on aligned and odd row counts. Outputs are poisoned first so an unwritten
// element fails; every test skips without a GPU.
#include <cmath>

#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

using kernels::bf16;
using kernels::OutType;

class QuantKernelTest : public GpuTest {
 protected:
  std::mt19937 rng{20261204};
};

struct HostInt8 {
  std::vector<int8_t> q;
  std::vector<float> scales;
};

struct HostInt4 {
  std::vector<uint32_t> q;  // [rows, cols / 8], eight inputs per word, lowest nibble first
  std::vector<float> scales, zero_scales;
};

HostInt8 random_int8(int rows, int cols, std::mt19937& rng) {
  HostInt8 w;
  std::uniform_int_distribution<int> q(-127, 127);
  std::uniform_real_distribution<float> s(0.001f, 0.02f);
  w.q.resize(static_cast<std::size_t>(rows) * cols);
  for (auto& v : w.q) v = static_cast<int8_t>(q(rng));
  for (int r = 0; r < rows; ++r) w.scales.push_back(s(rng));
  return w;
}

HostInt4 random_int4(int rows, int cols, std::mt19937& rng) {
  HostInt4 w;
  std::uniform_int_distribution<uint32_t> word;
  std::uniform_int_distribution<int> zero(0, 15);
  std::uniform_real_distribution<float> s(0.001f, 0.02f);
  w.q.resize(static_cast<std::size_t>(rows) * cols / 8);
  for (auto& v : w.q) v = word(rng);
  for (int i = 0; i < rows * cols / 128; ++i) {
    const float scale = s(rng);
    w.scales.push_back(scale);
    w.zero_scales.push_back(static_cast<float>(zero(rng)) * scale);
  }
  return w;
}

// The dequantized weights [rows, cols] in fp32, from the documented layouts.
std::vector<float> dequantized(const HostInt8& w, int rows, int cols) {
  std::vector<float> out(static_cast<std::size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < cols; ++k) {
      out[static_cast<std::size_t>(r) * cols + k] =
          static_cast<float>(w.q[static_cast<std::size_t>(r) * cols + k]) * w.scales[r];
    }
  }
  return out;
}

std::vector<float> dequantized(const HostInt4& w, int rows, int cols) {
  std::vector<float> out(static_cast<std::size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < cols; ++k) {
      const uint32_t word = w.q[(static_cast<std::size_t>(r) * cols + k) / 8];
      const float q = static_cast<float>((word >> (4 * (k % 8))) & 15u);
      const std::size_t g = static_cast<std::size_t>(r) * (cols / 128) + k / 128;
      out[static_cast<std::size_t>(r) * cols + k] = q * w.scales[g] - w.zero_scales[g];
    }
  }
  return out;
}

// y[b, r] = sum_k w[r, k] x[b, k] in fp64; with round_weights, each weight first rounded to bf16 (what the
// dequantize + cuBLASLt path multiplies).
std::vector<float> reference(const std::vector<float>& w, int rows, int cols, const std::vector<float>& x,
                             int m, bool round_weights) {
  std::vector<float> y(static_cast<std::size_t>(m) * rows);
  for (int b = 0; b < m; ++b) {
    for (int r = 0; r < rows; ++r) {
      double sum = 0;
      for (int k = 0; k < cols; ++k) {
        float wv = w[static_cast<std::size_t>(r) * cols + k];
        if (round_weights) wv = bf16_to_f32(f32_to_bf16(wv));
        sum += static_cast<double>(wv) * x[static_cast<std::size_t>(b) * cols + k];
      }
      y[static_cast<std::size_t>(b) * rows + r] = static_cast<float>(sum);
    }
  }
  return y;
}

TEST_F(QuantKernelTest, Int8ProductsMatchTheDequantizedReference) {
  kernels::Gemm gemm;
  for (const auto& [rows, cols] : {std::pair{1, 16}, {37, 144}, {256, 2048}, {1000, 4096}}) {
    const HostInt8 host = random_int8(rows, cols, rng);
    const auto w = dequantized(host, rows, cols);
    auto dq = to_device<int8_t>(host.q);
    auto ds = to_device<float>(host.scales);
    const kernels::Int8Weights weights{dq.get(), ds.get(), rows, cols};
    auto scratch = poisoned<bf16>(static_cast<std::size_t>(rows) * cols);
    for (const int m : {1, 2, 3, 5, 8, 9, 33}) {
      const auto x = random_bf16(static_cast<std::size_t>(m) * cols, 1.0f, rng);
      const auto ref = reference(w, rows, cols, bf16_values(x), m, m > kernels::kMaxQuantGemvBatch);
      auto dx = to_device<bf16>(x);
      auto y = poisoned<float>(static_cast<std::size_t>(m) * rows);
      kernels::quantized_matmul(gemm, weights, dx.get(), m, y.get(), OutType::F32, scratch.get(), nullptr);
      EXPECT_LT(relative_error(to_host<float>(y), ref), 1e-4) << rows << "x" << cols << " batch " << m;
      auto y16 = poisoned<bf16>(static_cast<std::size_t>(m) * rows);
      kernels::quantized_matmul(gemm, weights, dx.get(), m, y16.get(), OutType::BF16, scratch.get(), nullptr);
      EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(y16)), ref), 5e-3)
          << rows << "x" << cols << " batch " << m;
    }
  }
}

TEST_F(QuantKernelTest, Int4ProductsMatchTheDequantizedReference) {
  kernels::Gemm gemm;
  for (const auto& [rows, cols] : {std::pair{1, 128}, {37, 384}, {256, 2048}, {1000, 4096}}) {
    const HostInt4 host = random_int4(rows, cols, rng);
    const auto w = dequantized(host, rows, cols);
    auto dq = to_device<uint32_t>(host.q);
    auto ds = to_device<float>(host.scales);
    auto dz = to_device<float>(host.zero_scales);
    const kernels::Int4Weights weights{dq.get(), ds.get(), dz.get(), rows, cols};
    auto scratch = poisoned<bf16>(static_cast<std::size_t>(rows) * cols);
    for (const int m : {1, 2, 4, 7, 8, 9, 33}) {
      const auto x = random_bf16(static_cast<std::size_t>(m) * cols, 1.0f, rng);
      const auto ref = reference(w, rows, cols, bf16_values(x), m, m > kernels::kMaxQuantGemvBatch);
      auto dx = to_device<bf16>(x);
      auto y = poisoned<float>(static_cast<std::size_t>(m) * rows);
      kernels::quantized_matmul(gemm, weights, dx.get(), m, y.get(), OutType::F32, scratch.get(), nullptr);
      EXPECT_LT(relative_error(to_host<float>(y), ref), 1e-4) << rows << "x" << cols << " batch " << m;
    }
    // The dequantized bf16 weights are the reference's weights rounded once.
    ASSERT_EQ(kernels::dequantize_int4(weights, scratch.get(), nullptr), cudaSuccess);
    const auto bits = to_host<uint16_t>(scratch);
    for (std::size_t i = 0; i < w.size(); ++i) ASSERT_EQ(bits[i], f32_to_bf16(w[i])) << i;
  }
}

TEST_F(QuantKernelTest, UnsupportedShapesAreRefusedNotRun) {
  auto dq = to_device<uint32_t>(std::vector<uint32_t>(64, 0));
  auto ds = to_device<float>(std::vector<float>(8, 1.0f));
  auto dx = to_device<bf16>(std::vector<uint16_t>(9 * 256, 0));
  auto y = poisoned<float>(16);
  // int4 needs whole groups of 128 inputs; the GEMV takes at most kMaxQuantGemvBatch rows of x.
  EXPECT_EQ(
      kernels::gemv_int4({dq.get(), ds.get(), ds.get(), 2, 100}, dx.get(), 1, y.get(), OutType::F32, nullptr),
      cudaErrorInvalidValue);
  EXPECT_EQ(
      kernels::gemv_int4({dq.get(), ds.get(), ds.get(), 1, 256}, dx.get(), 9, y.get(), OutType::F32, nullptr),
      cudaErrorInvalidValue);
  auto d8 = to_device<int8_t>(std::vector<int8_t>(64, 0));
  EXPECT_EQ(kernels::gemv_int8({d8.get(), ds.get(), 2, 30}, dx.get(), 1, y.get(), OutType::F32, nullptr),
            cudaErrorInvalidValue);
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
