// The AVX2/FMA/F16C kernels. This file alone is compiled with -mavx2 -mfma -mf16c and is entered only after
// the processor was checked (kernels_portable.cpp), so it uses raw pointers only: no library templates whose
// AVX-compiled copies the linker could pick for other files.
#include <immintrin.h>

#include <cstddef>

#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {

const Kernels& avx2_kernel_table();

namespace {

template <DType D>
inline __m256 load8(const unsigned char* row, int k) {
  if constexpr (D == DType::BF16) {
    const __m128i raw =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * static_cast<std::size_t>(k)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
  } else if constexpr (D == DType::F16) {
    const __m128i raw =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * static_cast<std::size_t>(k)));
    return _mm256_cvtph_ps(raw);
  } else {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  }
}

template <DType D>
inline float load1(const unsigned char* row, int k) {
  if constexpr (D == DType::BF16) {
    const uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[k]) << 16;
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(static_cast<int>(bits))));
  } else if constexpr (D == DType::F16) {
    return _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[k]);
  } else {
    return reinterpret_cast<const float*>(row)[k];
  }
}

inline float hsum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// An R x T tile: R weight rows against T activation rows, R*T accumulators in registers.
template <DType D, int R, int T>
inline void tile(const unsigned char* w, std::size_t row_bytes, int cols, const float* x, int x_stride,
                 float* y, int y_stride) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  int k = 0;
  for (; k + 8 <= cols; k += 8) {
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x + static_cast<std::size_t>(t) * x_stride + k);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = load8<D>(w + r * row_bytes, k);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      float sum = hsum(acc[r][t]);
      for (int kk = k; kk < cols; ++kk)
        sum += load1<D>(w + r * row_bytes, kk) * x[static_cast<std::size_t>(t) * x_stride + kk];
      y[static_cast<std::size_t>(t) * y_stride + r] = sum;
    }
  }
}

// Tokens per block: their activations stay in L2 while a block of weight rows streams past them.
constexpr int kTokenBlock = 48;

template <DType D>
void matmul_typed(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                  int row_begin, int row_end) {
  const std::size_t row_bytes = static_cast<std::size_t>(w.cols) * (D == DType::F32 ? 4 : 2);
  const auto* base = static_cast<const unsigned char*>(w.data);
  if (m == 1) {
    // Decode: memory bound; eight rows in flight keep both FMA ports and the prefetchers busy.
    int r = row_begin;
    for (; r + 8 <= row_end; r += 8)
      tile<D, 8, 1>(base + r * row_bytes, row_bytes, w.cols, x, x_stride, y + r, y_stride);
    for (; r < row_end; ++r)
      tile<D, 1, 1>(base + r * row_bytes, row_bytes, w.cols, x, x_stride, y + r, y_stride);
    return;
  }
  for (int t0 = 0; t0 < m; t0 += kTokenBlock) {
    const int t_end = t0 + kTokenBlock < m ? t0 + kTokenBlock : m;
    int r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
      const unsigned char* wr = base + r * row_bytes;
      int t = t0;
      for (; t + 3 <= t_end; t += 3) {
        tile<D, 4, 3>(wr, row_bytes, w.cols, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                      y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
      }
      for (; t < t_end; ++t) {
        tile<D, 4, 1>(wr, row_bytes, w.cols, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                      y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
      }
    }
    for (; r < row_end; ++r) {
      for (int t = t0; t < t_end; ++t) {
        tile<D, 1, 1>(base + r * row_bytes, row_bytes, w.cols, x + static_cast<std::size_t>(t) * x_stride,
                      x_stride, y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
      }
    }
  }
}

void matmul(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride, int row_begin,
            int row_end) {
  switch (w.dtype) {
    case DType::BF16:
      return matmul_typed<DType::BF16>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F16:
      return matmul_typed<DType::F16>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F32:
      return matmul_typed<DType::F32>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
  }
}

float dot(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float sum = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float a, const float* x, float* y, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

const Kernels kAvx2{"avx2", &matmul, &dot, &axpy};

}  // namespace

const Kernels& avx2_kernel_table() {
  return kAvx2;
}

}  // namespace agentrt::engine::cpu
