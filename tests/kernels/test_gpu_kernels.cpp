// The elementwise, norm, rope and matrix kernels against the CPU backend's kernels and formulas, on fresh
// random inputs of several shapes including odd ones; outputs are poisoned first so an unwritten element
// fails.
#include <cmath>

#include "engine/config.h"
#include "engine/cpu/kernels.h"
#include "engine/dtype.h"
#include "engine/qkv_layout.h"
#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

using kernels::bf16;
using kernels::OutType;

class KernelTest : public GpuTest {
 protected:
  std::mt19937 rng{20261122};
};

// y = w x with the CPU's portable kernel, from the same bf16 values.
std::vector<float> cpu_matmul(const std::vector<uint16_t>& w, int rows, int cols, const std::vector<float>& x,
                              int m) {
  cpu::WeightMatrix matrix{w.data(), DType::BF16, rows, cols};
  std::vector<float> y(static_cast<std::size_t>(m) * rows);
  cpu::portable_kernels().matmul(matrix, x.data(), m, cols, y.data(), rows, 0, rows);
  return y;
}

TEST_F(KernelTest, GemvMatchesTheCpuMatmulForAlignedAndOddShapes) {
  for (const auto& [rows, cols] :
       {std::pair{1, 8}, {33, 17}, {100, 1000}, {257, 4104}, {4096, 4096}, {7, 14336}}) {
    const auto w = random_bf16(static_cast<std::size_t>(rows) * cols, 1.0f, rng);
    const auto x = random_bf16(cols, 1.0f, rng);
    const auto ref = cpu_matmul(w, rows, cols, bf16_values(x), 1);
    auto dw = to_device<bf16>(w);
    auto dx = to_device<bf16>(x);
    auto y32 = poisoned<float>(rows);
    ASSERT_EQ(kernels::gemv_bf16(dw.get(), dx.get(), y32.get(), OutType::F32, rows, cols, nullptr),
              cudaSuccess);
    EXPECT_LT(relative_error(to_host<float>(y32), ref), 1e-4) << rows << "x" << cols;
    auto y16 = poisoned<bf16>(rows);
    ASSERT_EQ(kernels::gemv_bf16(dw.get(), dx.get(), y16.get(), OutType::BF16, rows, cols, nullptr),
              cudaSuccess);
    EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(y16)), ref), 5e-3) << rows << "x" << cols;
  }
}

// The fused kernel must give exactly what the GEMV (bf16 out) then SwiGLU give: same sums, same roundings.
TEST_F(KernelTest, GemvWithSwigluFusedEqualsGemvThenSwiglu) {
  for (const auto& [ff, cols] : {std::pair{14336, 4096}, {37, 8}, {5, 136}, {9, 17}, {300, 4104}}) {
    const auto w13 = random_bf16(2 * static_cast<std::size_t>(ff) * cols, 1.0f, rng);
    const auto x = random_bf16(cols, 1.0f, rng);
    auto dw = to_device<bf16>(w13);
    auto dx = to_device<bf16>(x);
    auto gate_up = poisoned<bf16>(2 * static_cast<std::size_t>(ff));
    auto unfused = poisoned<bf16>(ff);
    auto fused = poisoned<bf16>(ff);
    ASSERT_EQ(kernels::gemv_bf16(dw.get(), dx.get(), gate_up.get(), OutType::BF16, 2 * ff, cols, nullptr),
              cudaSuccess);
    ASSERT_EQ(kernels::swiglu(gate_up.get(), unfused.get(), 1, ff, nullptr), cudaSuccess);
    ASSERT_EQ(kernels::gemv_swiglu_bf16(dw.get(), dx.get(), fused.get(), ff, cols, nullptr), cudaSuccess);
    const auto fused_bits = to_host<uint16_t>(fused);
    EXPECT_EQ(fused_bits, to_host<uint16_t>(unfused)) << ff << "x" << cols;
    // And against the CPU: silu(gate) * up from the CPU's products.
    const auto products = cpu_matmul(w13, 2 * ff, cols, bf16_values(x), 1);
    std::vector<float> ref(ff);
    for (int j = 0; j < ff; ++j) {
      const float gate = products[j], up = products[ff + j];
      ref[j] = gate / (1.0f + std::exp(-gate)) * up;
    }
    EXPECT_LT(relative_error(bf16_values(fused_bits), ref), 1e-2) << ff << "x" << cols;
  }
}

TEST_F(KernelTest, CublasLtGemmMatchesTheCpuMatmul) {
  kernels::Gemm gemm;
  for (const auto& [m, n, k] :
       {std::tuple{2, 8, 8}, {7, 33, 64}, {64, 256, 512}, {300, 1000, 128}, {513, 96, 2048}}) {
    const auto w = random_bf16(static_cast<std::size_t>(n) * k, 1.0f, rng);
    const auto x = random_bf16(static_cast<std::size_t>(m) * k, 1.0f, rng);
    const auto ref = cpu_matmul(w, n, k, bf16_values(x), m);
    auto dw = to_device<bf16>(w);
    auto dx = to_device<bf16>(x);
    auto y32 = poisoned<float>(static_cast<std::size_t>(m) * n);
    gemm.run(dx.get(), dw.get(), y32.get(), OutType::F32, m, n, k, nullptr);
    EXPECT_LT(relative_error(to_host<float>(y32), ref), 1e-4) << m << "x" << n << "x" << k;
    auto y16 = poisoned<bf16>(static_cast<std::size_t>(m) * n);
    gemm.run(dx.get(), dw.get(), y16.get(), OutType::BF16, m, n, k, nullptr);
    EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(y16)), ref), 5e-3) << m << "x" << n << "x" << k;
  }
}

TEST_F(KernelTest, AddRmsNormMatchesTheCpuFormula) {
  for (const auto& [rows, cols] : {std::pair{1, 64}, {3, 1000}, {17, 2048}, {5, 4097}}) {
    for (const bool with_delta : {false, true}) {
      const auto x = random_f32(static_cast<std::size_t>(rows) * cols, -2.0f, 2.0f, rng);
      const auto delta = random_f32(x.size(), -1.0f, 1.0f, rng);
      const auto weight = random_f32(cols, 0.5f, 1.5f, rng);
      const float eps = 1e-5f;
      std::vector<float> x_ref = x, out_ref(x.size());
      for (int r = 0; r < rows; ++r) {
        float* row = &x_ref[static_cast<std::size_t>(r) * cols];
        double sum = 0;
        for (int i = 0; i < cols; ++i) {
          if (with_delta) row[i] += delta[static_cast<std::size_t>(r) * cols + i];
          sum += static_cast<double>(row[i]) * row[i];
        }
        const auto scale = static_cast<float>(1.0 / std::sqrt(sum / cols + eps));
        for (int i = 0; i < cols; ++i)
          out_ref[static_cast<std::size_t>(r) * cols + i] = weight[i] * (row[i] * scale);
      }
      auto dx = to_device<float>(x);
      auto dd = to_device<float>(delta);
      auto dw = to_device<float>(weight);
      auto dout = poisoned<bf16>(x.size());
      ASSERT_EQ(kernels::add_rmsnorm(dx.get(), with_delta ? dd.get() : nullptr, dw.get(), dout.get(), rows,
                                     cols, eps, nullptr),
                cudaSuccess);
      EXPECT_LT(relative_error(to_host<float>(dx), x_ref), 1e-7) << rows << "x" << cols;
      EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(dout)), out_ref), 4e-3) << rows << "x" << cols;
    }
  }
}

TEST_F(KernelTest, SwigluAndEmbeddingGatherMatchTheirFormulas) {
  for (const auto& [rows, ff] : {std::pair{1, 8}, {5, 129}, {64, 14336}}) {
    const auto gate_up = random_bf16(static_cast<std::size_t>(rows) * 2 * ff, 4.0f, rng);
    const auto values = bf16_values(gate_up);
    std::vector<float> ref(static_cast<std::size_t>(rows) * ff);
    for (int r = 0; r < rows; ++r) {
      for (int j = 0; j < ff; ++j) {
        const float g = values[static_cast<std::size_t>(r) * 2 * ff + j];
        const float u = values[static_cast<std::size_t>(r) * 2 * ff + ff + j];
        ref[static_cast<std::size_t>(r) * ff + j] = g / (1.0f + std::exp(-g)) * u;
      }
    }
    auto din = to_device<bf16>(gate_up);
    auto dout = poisoned<bf16>(ref.size());
    ASSERT_EQ(kernels::swiglu(din.get(), dout.get(), rows, ff, nullptr), cudaSuccess);
    EXPECT_LT(relative_error(bf16_values(to_host<uint16_t>(dout)), ref), 4e-3);
  }
  const int vocab = 1001, hidden = 72;
  const auto table = random_bf16(static_cast<std::size_t>(vocab) * hidden, 1.0f, rng);
  const std::vector<int32_t> ids{0, 1000, 17, 17, 512};
  std::vector<float> ref;
  for (const int32_t id : ids) {
    for (int i = 0; i < hidden; ++i)
      ref.push_back(engine::bf16_to_f32(table[static_cast<std::size_t>(id) * hidden + i]));
  }
  auto dtable = to_device<bf16>(table);
  auto dids = to_device<int32_t>(ids);
  auto dout = poisoned<float>(ref.size());
  ASSERT_EQ(kernels::embedding_gather(dtable.get(), dids.get(), dout.get(), static_cast<int>(ids.size()),
                                      hidden, nullptr),
            cudaSuccess);
  EXPECT_EQ(to_host<float>(dout), ref);
}

// The CPU backend's rope (cpu_backend.cpp): inverse frequencies rounded to fp32, angle in fp64.
void cpu_rope(float* vec, int heads, int d, int position, double base, double position_scale) {
  for (int i = 0; i < d / 2; ++i) {
    const auto inv_freq = static_cast<float>(1.0 / std::pow(base, 2.0 * i / d));
    const double angle = position * position_scale * static_cast<double>(inv_freq);
    const auto c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
    for (int h = 0; h < heads; ++h) {
      float* x = vec + h * d;
      const float a = x[i], b = x[i + d / 2];
      x[i] = a * c - b * s;
      x[i + d / 2] = b * c + a * s;
    }
  }
}

TEST_F(KernelTest, RopeQkvSplitUnpacksRotatesAndFillsTheCacheSlots) {
  struct Shape {
    int heads, kv_heads, head_dim, rows;
  };
  for (const Shape shape :
       {Shape{4, 2, 16, 3}, Shape{32, 8, 128, 5}, Shape{6, 6, 64, 1}, Shape{16, 8, 128, 33}}) {
    ModelConfig c;
    c.num_attention_heads = shape.heads;
    c.num_key_value_heads = shape.kv_heads;
    c.hidden_size = shape.heads * shape.head_dim;
    c.rope_scaling = RopeScaling::Dynamic;
    c.rope_scaling_factor = 2.0;
    c.max_position_embeddings = 64;
    const QkvLayout layout(c);
    const int d = shape.head_dim, rows = shape.rows, block_size = 4, blocks = 64;  // more blocks than rows
    const auto qkv = random_f32(static_cast<std::size_t>(rows) * c.qkv_rows(), -1.0f, 1.0f, rng);
    std::vector<int32_t> positions, slots;
    std::vector<double> bases;
    for (int r = 0; r < rows; ++r) {
      positions.push_back(5 + 37 * r);
      slots.push_back((blocks - 1 - r) * block_size + r % block_size);  // scattered blocks
      bases.push_back(rope_base_for_length(c, 100 + r));
    }
    const std::size_t cache_elements = static_cast<std::size_t>(blocks) * shape.kv_heads * block_size * d;
    auto dqkv = to_device<float>(qkv);
    auto dq = poisoned<bf16>(static_cast<std::size_t>(rows) * shape.heads * d);
    auto dk = poisoned<bf16>(cache_elements);
    auto dv = poisoned<bf16>(cache_elements);
    auto dslots = to_device<int32_t>(slots);
    auto dpositions = to_device<int32_t>(positions);
    auto dbases = to_device<double>(bases);
    const kernels::PagedKv kv{dk.get(), dv.get(), block_size, shape.kv_heads, d};
    ASSERT_EQ(kernels::rope_qkv_split(dqkv.get(), dq.get(), kv, dslots.get(), dpositions.get(), dbases.get(),
                                      1.0, rows, shape.heads, nullptr),
              cudaSuccess);
    const auto q = bf16_values(to_host<uint16_t>(dq));
    const auto k = to_host<uint16_t>(dk);
    const auto v = to_host<uint16_t>(dv);
    std::vector<float> q_ref, q_out, kv_ref, kv_out;
    for (int r = 0; r < rows; ++r) {
      const float* packed = &qkv[static_cast<std::size_t>(r) * c.qkv_rows()];
      std::vector<float> qr(static_cast<std::size_t>(shape.heads) * d),
          kr(static_cast<std::size_t>(shape.kv_heads) * d);
      for (int h = 0; h < shape.heads; ++h) std::copy_n(packed + layout.query_row(h), d, &qr[h * d]);
      for (int h = 0; h < shape.kv_heads; ++h) std::copy_n(packed + layout.key_row(h), d, &kr[h * d]);
      cpu_rope(qr.data(), shape.heads, d, positions[r], bases[r], 1.0);
      cpu_rope(kr.data(), shape.kv_heads, d, positions[r], bases[r], 1.0);
      q_ref.insert(q_ref.end(), qr.begin(), qr.end());
      q_out.insert(q_out.end(), q.begin() + static_cast<std::ptrdiff_t>(r) * shape.heads * d,
                   q.begin() + static_cast<std::ptrdiff_t>(r + 1) * shape.heads * d);
      const int block = slots[r] / block_size, offset = slots[r] % block_size;
      for (int h = 0; h < shape.kv_heads; ++h) {
        const std::size_t at =
            ((static_cast<std::size_t>(block) * shape.kv_heads + h) * block_size + offset) * d;
        for (int i = 0; i < d; ++i) {
          kv_ref.push_back(kr[h * d + i]);
          kv_out.push_back(engine::bf16_to_f32(k[at + i]));
          kv_ref.push_back(packed[layout.value_row(h) + i]);
          kv_out.push_back(engine::bf16_to_f32(v[at + i]));
        }
      }
    }
    EXPECT_LT(relative_error(q_out, q_ref), 4e-3);
    EXPECT_LT(relative_error(kv_out, kv_ref), 4e-3);
    // Slots no row names keep their poison.
    int written = 0;
    for (const uint16_t bits : k) written += bits != 0xffff;
    EXPECT_EQ(written, rows * shape.kv_heads * d);
  }
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
