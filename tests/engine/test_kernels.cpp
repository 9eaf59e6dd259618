// The AVX2 kernels against the portable ones, for every dtype and the shapes the tiling treats specially.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/cpu/kernels.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {
namespace {

struct Buffers {
  std::vector<uint16_t> half;
  std::vector<float> full;
};

WeightMatrix random_matrix(DType dtype, int rows, int cols, Buffers& store, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  store.full.resize(static_cast<std::size_t>(rows) * cols);
  store.half.resize(store.full.size());
  for (std::size_t i = 0; i < store.full.size(); ++i) {
    store.full[i] = dist(rng);
    store.half[i] = dtype == DType::BF16 ? f32_to_bf16(store.full[i]) : f32_to_f16(store.full[i]);
  }
  return {dtype == DType::F32 ? static_cast<const void*>(store.full.data()) : store.half.data(), dtype, rows,
          cols};
}

TEST(CpuKernels, Avx2MatchesPortable) {
  const Kernels* fast = avx2_kernels();
  if (fast == nullptr) GTEST_SKIP() << "this processor has no AVX2/FMA";
  std::mt19937 rng(7);
  for (const DType dtype : {DType::BF16, DType::F16, DType::F32}) {
    for (const auto& [rows, cols, m] :
         {std::tuple{37, 64, 1}, std::tuple{16, 200, 5}, std::tuple{9, 13, 50}, std::tuple{40, 600, 13}}) {
      Buffers store;
      const WeightMatrix w = random_matrix(dtype, rows, cols, store, rng);
      std::vector<float> x(static_cast<std::size_t>(m) * cols);
      for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
      std::vector<float> expected(static_cast<std::size_t>(m) * rows), got(expected.size());
      portable_kernels().matmul(w, x.data(), m, cols, expected.data(), rows, 0, rows);
      fast->matmul(w, x.data(), m, cols, got.data(), rows, 0, rows);
      for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], 1e-4) << i;
    }
  }
  std::vector<float> a(37), b(37), y1(37, 1.0f), y2(37, 1.0f);
  for (int i = 0; i < 37; ++i) a[i] = 0.5f * i, b[i] = 1.0f - 0.1f * i;
  EXPECT_NEAR(fast->dot(a.data(), b.data(), 37), portable_kernels().dot(a.data(), b.data(), 37), 1e-3);
  fast->axpy(0.5f, a.data(), y1.data(), 37);
  portable_kernels().axpy(0.5f, a.data(), y2.data(), 37);
  EXPECT_EQ(y1, y2);
}

TEST(CpuKernels, MatmulComputesTheProduct) {
  // w = [[1, 2], [3, 4], [5, 6]] in bf16 (exact), x = [[1, 1], [0, 2]].
  const std::vector<uint16_t> w = {f32_to_bf16(1), f32_to_bf16(2), f32_to_bf16(3),
                                   f32_to_bf16(4), f32_to_bf16(5), f32_to_bf16(6)};
  const WeightMatrix matrix{w.data(), DType::BF16, 3, 2};
  const std::vector<float> x = {1, 1, 0, 2};
  std::vector<float> y(6);
  best_kernels().matmul(matrix, x.data(), 2, 2, y.data(), 3, 0, 3);
  EXPECT_EQ(y, (std::vector<float>{3, 7, 11, 4, 8, 12}));
}

TEST(ThreadPool, RunsEveryTaskOnceAndPropagatesErrors) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(100);
  pool.run(100, [&](int task, int thread) {
    EXPECT_LT(thread, 3);
    hits[task]++;
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_THROW(pool.run(10,
                        [](int task, int) {
                          if (task == 7) throw std::runtime_error("task 7");
                        }),
               std::runtime_error);
  int after = 0;
  pool.run(1, [&](int, int) { ++after; });
  EXPECT_EQ(after, 1);
}

}  // namespace
}  // namespace agentrt::engine::cpu
