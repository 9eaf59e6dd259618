// Every CPU kernel variant against the portable one (the reference), on odd shapes, for every weight format:
// dense bf16/fp16/fp32, int8, int4. One test instance per variant; the variants this processor lacks are
// reported as skipped, with the features they need.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/cpu/quantized_matrix.h"

namespace agentrt::engine::cpu {
namespace {

std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float amplitude = 1.0f) {
  std::uniform_real_distribution<float> dist(-amplitude, amplitude);
  std::vector<float> out(n);
  for (auto& v : out) v = dist(rng);
  return out;
}

// A weight matrix of any format with its storage.
struct TestMatrix {
  std::vector<uint16_t> half;
  std::vector<float> full;
  std::unique_ptr<QuantizedMatrix> quantized;
  WeightMatrix view;
};

enum class Format { BF16, F16, F32, Int8, Int4 };

std::string format_name(Format f) {
  switch (f) {
    case Format::BF16:
      return "bf16";
    case Format::F16:
      return "fp16";
    case Format::F32:
      return "fp32";
    case Format::Int8:
      return "int8";
    case Format::Int4:
      return "int4";
  }
  return "?";
}

TestMatrix make_matrix(Format format, int rows, int cols, std::mt19937& rng) {
  TestMatrix m;
  if (format == Format::Int8) {
    m.quantized = std::make_unique<QuantizedMatrix>(WeightFormat::Int8, rows, cols);
    std::uniform_int_distribution<int> q(-128, 127);
    std::vector<int8_t> row(cols);
    for (int r = 0; r < rows; ++r) {
      for (auto& v : row) v = static_cast<int8_t>(q(rng));
      m.quantized->set_int8_row(r, row.data(), 0.001f + 0.01f * static_cast<float>(r % 7));
    }
    m.view = m.quantized->view();
    return m;
  }
  if (format == Format::Int4) {
    m.quantized = std::make_unique<QuantizedMatrix>(WeightFormat::Int4, rows, cols);
    std::uniform_int_distribution<int> q(0, 15);
    const int groups = cols / kQuantGroup;
    std::vector<uint8_t> row(cols), zeros(groups);
    std::vector<float> scales(groups);
    for (int r = 0; r < rows; ++r) {
      for (auto& v : row) v = static_cast<uint8_t>(q(rng));
      for (int g = 0; g < groups; ++g) {
        zeros[g] = static_cast<uint8_t>(q(rng));
        scales[g] = 0.01f + 0.003f * static_cast<float>((r + g) % 5);
      }
      m.quantized->set_int4_row(r, row.data(), zeros.data(), scales.data());
    }
    m.view = m.quantized->view();
    return m;
  }
  m.full = random_floats(static_cast<std::size_t>(rows) * cols, rng);
  const DType dtype = format == Format::BF16 ? DType::BF16 : format == Format::F16 ? DType::F16 : DType::F32;
  if (dtype != DType::F32) {
    m.half.resize(m.full.size());
    for (std::size_t i = 0; i < m.full.size(); ++i)
      m.half[i] = dtype == DType::BF16 ? f32_to_bf16(m.full[i]) : f32_to_f16(m.full[i]);
  }
  m.view = WeightMatrix{dtype == DType::F32 ? static_cast<const void*>(m.full.data()) : m.half.data(), dtype,
                        rows, cols};
  return m;
}

// Largest |y| of a result, for tolerances relative to the output's scale.
float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (const float x : v) m = std::max(m, std::fabs(x));
  return m;
}

class KernelVariantTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    for (const KernelVariant& v : kernel_variants()) {
      if (v.name != GetParam()) continue;
      if (v.kernels == nullptr) {
        GTEST_SKIP() << "this processor lacks " << v.missing << " for '" << v.name << "'";
      }
      kernels_ = v.kernels;
      return;
    }
    FAIL() << "no kernel variant named " << GetParam();
  }
  const Kernels* kernels_ = nullptr;
};

// Shapes: rows x cols x tokens, odd everywhere the tiling has an edge (rows not a multiple of 8/16/32/64,
// columns not a multiple of 8/16, token counts around the tile sizes; single tokens with columns past the
// 64-wide steps for the tails of the split bf16 decode; rows past 4096 columns, which that decode takes eight
// at a time, with a row count that leaves a tail of single rows, and one such width not of whole 32-blocks).
const std::vector<std::tuple<int, int, int>> kDenseShapes = {
    {37, 64, 1},     {16, 200, 5},  {9, 13, 50}, {40, 600, 13}, {70, 129, 2}, {65, 33, 7},
    {100, 1030, 19}, {33, 1030, 1}, {5, 45, 1},  {29, 4160, 1}, {11, 4100, 1}};
// int4 needs whole groups of 128 inputs.
const std::vector<std::tuple<int, int, int>> kInt4Shapes = {{37, 128, 1},  {16, 256, 5}, {9, 384, 50},
                                                            {40, 640, 13}, {70, 128, 2}, {65, 256, 7}};

const std::vector<std::tuple<int, int, int>>& shapes_for(Format f) {
  return f == Format::Int4 ? kInt4Shapes : kDenseShapes;
}

TEST_P(KernelVariantTest, MatmulMatchesPortable) {
  std::mt19937 rng(7);
  for (const Format format : {Format::BF16, Format::F16, Format::F32, Format::Int8, Format::Int4}) {
    for (const auto& [rows, cols, m] : shapes_for(format)) {
      const TestMatrix w = make_matrix(format, rows, cols, rng);
      const std::vector<float> x = random_floats(static_cast<std::size_t>(m) * cols, rng);
      std::vector<float> expected(static_cast<std::size_t>(m) * rows), got(expected.size(), -1.0f);
      portable_kernels().matmul(w.view, x.data(), m, cols, expected.data(), rows, 0, rows);
      // Two calls over split row ranges, as threads make them.
      const int split = rows / 3;
      kernels_->matmul(w.view, x.data(), m, cols, got.data(), rows, 0, split);
      kernels_->matmul(w.view, x.data(), m, cols, got.data(), rows, split, rows);
      const float tolerance = 2e-5f * std::max(1.0f, max_abs(expected));
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], expected[i], tolerance)
            << format_name(format) << " " << rows << "x" << cols << " m=" << m << " at " << i;
      }
    }
  }
}

TEST_P(KernelVariantTest, QuantizedInputIsIdenticalToPortable) {
  std::mt19937 rng(11);
  for (const int cols : {1, 100, 128, 129, 300, 2048}) {
    const int m = 3, groups = (cols + kQuantGroup - 1) / kQuantGroup;
    std::vector<float> x = random_floats(static_cast<std::size_t>(m) * cols, rng, 3.0f);
    x[0] = 0.0f;
    if (cols >= 128) std::fill_n(x.begin(), 128, 0.0f);  // an all-zero group
    QuantizedInputBuffer a, b;
    const QuantizedInput& ref = a.quantize(portable_kernels(), x.data(), m, cols, cols);
    const QuantizedInput& got = b.quantize(*kernels_, x.data(), m, cols, cols);
    ASSERT_EQ(ref.stride, got.stride);
    for (int i = 0; i < m * ref.stride; ++i) ASSERT_EQ(ref.q[i], got.q[i]) << "cols " << cols << " at " << i;
    for (int i = 0; i < m * groups; ++i) {
      ASSERT_EQ(ref.scale[i], got.scale[i]) << i;
      ASSERT_EQ(ref.sum[i], got.sum[i]) << i;
    }
  }
}

TEST_P(KernelVariantTest, IntegerProductMatchesPortableAndTheFloatProduct) {
  std::mt19937 rng(13);
  for (const Format format : {Format::Int8, Format::Int4}) {
    for (const auto& [rows, cols, m_all] : shapes_for(format)) {
      for (const int m : {1, 2, 3, 4, 5, 8}) {
        const TestMatrix w = make_matrix(format, rows, cols, rng);
        const std::vector<float> x = random_floats(static_cast<std::size_t>(m) * cols, rng);
        QuantizedInputBuffer buffer;
        const QuantizedInput& in = buffer.quantize(*kernels_, x.data(), m, cols, cols);
        std::vector<float> reference(static_cast<std::size_t>(m) * rows), got(reference.size(), -1.0f),
            exact(reference.size());
        portable_kernels().matmul_quantized(w.view, in, reference.data(), rows, 0, rows);
        kernels_->matmul_quantized(w.view, in, got.data(), rows, 0, rows / 2);
        kernels_->matmul_quantized(w.view, in, got.data(), rows, rows / 2, rows);
        portable_kernels().matmul(w.view, x.data(), m, cols, exact.data(), rows, 0, rows);
        const float scale = std::max(1.0f, max_abs(exact));
        for (std::size_t i = 0; i < got.size(); ++i) {
          // The same int32 sums; only the order of the fp32 sums differs.
          ASSERT_NEAR(got[i], reference[i], 1e-5f * scale)
              << format_name(format) << " " << rows << "x" << cols << " m=" << m << " at " << i;
          // Against fp32 activations: the int8 rounding of x (1/254 of each group's largest value).
          ASSERT_NEAR(got[i], exact[i], 2e-2f * scale)
              << format_name(format) << " " << rows << "x" << cols << " m=" << m << " at " << i;
        }
      }
    }
  }
}

TEST_P(KernelVariantTest, Bf16ProductMatchesTheProductOfRoundedActivations) {
  if (kernels_->matmul_bf16 == nullptr) GTEST_SKIP() << "'" << GetParam() << "' has no bf16 dot product";
  std::mt19937 rng(17);
  for (const Format format : {Format::BF16, Format::Int8, Format::Int4, Format::F32}) {
    for (const auto& [rows, cols, m] : shapes_for(format)) {
      const TestMatrix w = make_matrix(format, rows, cols, rng);
      std::vector<float> x = random_floats(static_cast<std::size_t>(m) * cols, rng);
      Bf16InputBuffer buffer;
      const Bf16Input& in = buffer.convert(x.data(), m, cols, cols);
      // The reference: the portable product of the bf16-rounded activations.
      for (auto& v : x) v = bf16_to_f32(f32_to_bf16(v));
      std::vector<float> expected(static_cast<std::size_t>(m) * rows), got(expected.size(), -1.0f);
      portable_kernels().matmul(w.view, x.data(), m, cols, expected.data(), rows, 0, rows);
      const int split = rows > 64 ? 64 : rows / 2;
      kernels_->matmul_bf16(w.view, in, got.data(), rows, 0, split);
      kernels_->matmul_bf16(w.view, in, got.data(), rows, split, rows);
      // bf16 weights are exact; int8/int4/fp32 weights are rounded to bf16 in the panels (2^-9 relative
      // each).
      const float relative = format == Format::BF16 ? 2e-5f : 1e-2f;
      const float tolerance = relative * std::max(1.0f, max_abs(expected));
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], expected[i], tolerance)
            << format_name(format) << " " << rows << "x" << cols << " m=" << m << " at " << i;
      }
    }
  }
}

TEST_P(KernelVariantTest, VectorPrimitivesMatchPortable) {
  std::mt19937 rng(19);
  for (const int n : {1, 7, 16, 37, 128, 131}) {
    const std::vector<float> a = random_floats(n, rng), b = random_floats(n, rng);
    std::vector<int8_t> q(n);
    for (int i = 0; i < n; ++i) q[i] = static_cast<int8_t>(i * 37 % 255 - 127);
    EXPECT_NEAR(kernels_->dot(a.data(), b.data(), n), portable_kernels().dot(a.data(), b.data(), n), 1e-4)
        << n;
    EXPECT_NEAR(kernels_->dot_i8(a.data(), q.data(), n), portable_kernels().dot_i8(a.data(), q.data(), n),
                1e-2)
        << n;
    std::vector<float> y1 = b, y2 = b;
    kernels_->axpy(0.5f, a.data(), y1.data(), n);
    portable_kernels().axpy(0.5f, a.data(), y2.data(), n);
    for (int i = 0; i < n; ++i) EXPECT_NEAR(y1[i], y2[i], 1e-6) << n;
    kernels_->axpy_i8(0.25f, q.data(), y1.data(), n);
    portable_kernels().axpy_i8(0.25f, q.data(), y2.data(), n);
    for (int i = 0; i < n; ++i) EXPECT_NEAR(y1[i], y2[i], 1e-5) << n;
  }
}

TEST_P(KernelVariantTest, AttentionPrimitivesMatchPortable) {
  std::mt19937 rng(23);
  for (const int d : {128, 64, 40}) {
    for (const int count : {1, 3, 4, 9, 33}) {
      const std::size_t stride = 3 * static_cast<std::size_t>(d) + 8;  // heads of a KV row, and some padding
      const std::vector<float> q = random_floats(d, rng);
      const std::vector<float> k = random_floats(stride * count, rng), p = random_floats(count, rng);
      std::vector<int8_t> k8(stride * count);
      for (std::size_t i = 0; i < k8.size(); ++i)
        k8[i] = static_cast<int8_t>(static_cast<int>(i * 31 % 255) - 127);
      const std::vector<float> scale = random_floats(2 * static_cast<std::size_t>(count), rng);
      std::vector<float> a(count), b(count);
      kernels_->scores(q.data(), k.data() + d, stride, count, d, a.data());
      portable_kernels().scores(q.data(), k.data() + d, stride, count, d, b.data());
      for (int i = 0; i < count; ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << d << " " << count;
      kernels_->scores_i8(q.data(), k8.data() + d, stride, scale.data() + 1, 2, count, d, a.data());
      portable_kernels().scores_i8(q.data(), k8.data() + d, stride, scale.data() + 1, 2, count, d, b.data());
      for (int i = 0; i < count; ++i) ASSERT_NEAR(a[i], b[i], 1e-2) << d << " " << count;
      std::vector<float> o1 = random_floats(d, rng), o2 = o1;
      kernels_->mix(p.data(), k.data() + d, stride, count, d, o1.data());
      portable_kernels().mix(p.data(), k.data() + d, stride, count, d, o2.data());
      for (int i = 0; i < d; ++i) ASSERT_NEAR(o1[i], o2[i], 1e-4) << d << " " << count;
      kernels_->mix_i8(p.data(), k8.data() + d, stride, scale.data() + 1, 2, count, d, o1.data());
      portable_kernels().mix_i8(p.data(), k8.data() + d, stride, scale.data() + 1, 2, count, d, o2.data());
      for (int i = 0; i < d; ++i) ASSERT_NEAR(o1[i], o2[i], 1e-2) << d << " " << count;
    }
  }
}

TEST_P(KernelVariantTest, ReadBytesSeesEveryByteAndFmaFlopsCounts) {
  alignas(64) static uint8_t buffer[64 * 37];
  std::fill(std::begin(buffer), std::end(buffer), 0);
  EXPECT_EQ(kernels_->read_bytes(buffer, sizeof buffer), 0u);
  for (const std::size_t at : {std::size_t{0}, std::size_t{64 * 17 + 5}, sizeof buffer - 1}) {
    buffer[at] = 1;
    EXPECT_NE(kernels_->read_bytes(buffer, sizeof buffer), 0u) << "byte " << at;
    buffer[at] = 0;
  }
  EXPECT_GT(kernels_->fma_flops(1000), 0.0);
}

std::vector<std::string> variant_names() {
  std::vector<std::string> names;
  for (const KernelVariant& v : kernel_variants()) names.emplace_back(v.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllVariants, KernelVariantTest, ::testing::ValuesIn(variant_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(KernelVariants, TheBestIsTheFastestTheProcessorRuns) {
  const auto variants = kernel_variants();
  ASSERT_EQ(variants.front().name, "portable");
  ASSERT_NE(variants.front().kernels, nullptr);
  const Kernels* last = nullptr;
  for (const KernelVariant& v : variants) {
    if (v.kernels != nullptr) last = v.kernels;
    EXPECT_EQ(v.kernels == nullptr, !v.missing.empty()) << v.name;
    EXPECT_EQ(kernels_by_name(v.name), v.kernels) << v.name;
  }
  if (std::getenv("AGENTRT_CPU_KERNELS") == nullptr) {
    EXPECT_EQ(&best_kernels(), last);
  }
  EXPECT_EQ(kernels_by_name("no-such-variant"), nullptr);
}

TEST(QuantizedMatrix, LayoutsAreTheDocumentedOnes) {
  // int8: byte = q + 128, w = q * scale.
  QuantizedMatrix q8(WeightFormat::Int8, 2, 3);
  const int8_t row[3] = {-127, 0, 5};
  q8.set_int8_row(1, row, 0.5f);
  const auto* bytes = static_cast<const uint8_t*>(q8.view().data);
  EXPECT_EQ(q8.view().row_stride, kQuantGroup);
  EXPECT_EQ(bytes[kQuantGroup + 0], 1);
  EXPECT_EQ(bytes[kQuantGroup + 1], 128);
  EXPECT_EQ(bytes[kQuantGroup + 2], 133);
  EXPECT_EQ(bytes[kQuantGroup + 3], 128);  // padding is q = 0
  float out[3];
  convert_row(q8.view(), 1, out);
  EXPECT_EQ(out[0], -63.5f);
  EXPECT_EQ(out[2], 2.5f);
  // int4: byte j of group g = q[128g + j] | q[128g + 64 + j] << 4; w = (q - z) * s.
  QuantizedMatrix q4(WeightFormat::Int4, 1, 256);
  std::vector<uint8_t> q(256);
  for (int k = 0; k < 256; ++k) q[k] = static_cast<uint8_t>(k % 16);
  const uint8_t zeros[2] = {8, 3};
  const float scales[2] = {0.25f, 2.0f};
  q4.set_int4_row(0, q.data(), zeros, scales);
  const auto* packed = static_cast<const uint8_t*>(q4.view().data);
  EXPECT_EQ(packed[0], (0 | (64 % 16) << 4));
  EXPECT_EQ(packed[64 + 5], (133 % 16) | ((197 % 16) << 4));
  std::vector<float> w(256);
  convert_row(q4.view(), 0, w.data());
  for (int k = 0; k < 256; ++k) {
    const int g = k / 128;
    EXPECT_EQ(w[k], (static_cast<float>(q[k]) - zeros[g]) * scales[g]) << k;
  }
  EXPECT_THROW(QuantizedMatrix(WeightFormat::Int4, 2, 100), std::invalid_argument);
}

}  // namespace
}  // namespace agentrt::engine::cpu
