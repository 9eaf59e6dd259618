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

// Prefill tiling: a panel of 16 weight rows x kBlockK columns, converted to fp32 and stored k-major
// ([kBlockK][16], 16 KiB: stays in L1), is multiplied by 6 tokens at a time into 6 x 16 accumulators.
constexpr int kPanelRows = 16;
constexpr int kBlockK = 256;

template <DType D>
inline void pack_panel(const unsigned char* rows, std::size_t row_bytes, int k0, int kn, float* panel) {
  for (int r = 0; r < kPanelRows; ++r) {
    const unsigned char* row = rows + r * row_bytes;
    int k = 0;
    alignas(32) float chunk[8];
    for (; k + 8 <= kn; k += 8) {
      _mm256_store_ps(chunk, load8<D>(row, k0 + k));
      for (int i = 0; i < 8; ++i) panel[(k + i) * kPanelRows + r] = chunk[i];
    }
    for (; k < kn; ++k) panel[k * kPanelRows + r] = load1<D>(row, k0 + k);
  }
}

// y[t, 0:16] (+)= sum_k x[t, k] * panel[k, 0:16] for T tokens.
template <int T>
inline void panel_tile(const float* panel, int kn, const float* x, int x_stride, float* y, int y_stride,
                       bool accumulate) {
  __m256 acc[T][2];
  for (int t = 0; t < T; ++t) {
    acc[t][0] =
        accumulate ? _mm256_loadu_ps(y + static_cast<std::size_t>(t) * y_stride) : _mm256_setzero_ps();
    acc[t][1] =
        accumulate ? _mm256_loadu_ps(y + static_cast<std::size_t>(t) * y_stride + 8) : _mm256_setzero_ps();
  }
  for (int k = 0; k < kn; ++k) {
    const __m256 b0 = _mm256_load_ps(panel + k * kPanelRows);
    const __m256 b1 = _mm256_load_ps(panel + k * kPanelRows + 8);
    for (int t = 0; t < T; ++t) {
      const __m256 a = _mm256_broadcast_ss(x + static_cast<std::size_t>(t) * x_stride + k);
      acc[t][0] = _mm256_fmadd_ps(a, b0, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(a, b1, acc[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm256_storeu_ps(y + static_cast<std::size_t>(t) * y_stride, acc[t][0]);
    _mm256_storeu_ps(y + static_cast<std::size_t>(t) * y_stride + 8, acc[t][1]);
  }
}

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
  // Prefill: rows in panels of 16 converted to fp32 once per k-block, then 6 tokens x 16 rows per step.
  int r = row_begin;
  const int panel_end = row_begin + (row_end - row_begin) / kPanelRows * kPanelRows;
  alignas(32) float panel[kBlockK * kPanelRows];
  for (; r < panel_end; r += kPanelRows) {
    for (int k0 = 0; k0 < w.cols; k0 += kBlockK) {
      const int kn = w.cols - k0 < kBlockK ? w.cols - k0 : kBlockK;
      pack_panel<D>(base + r * row_bytes, row_bytes, k0, kn, panel);
      const bool accumulate = k0 > 0;
      int t = 0;
      for (; t + 6 <= m; t += 6)
        panel_tile<6>(panel, kn, x + static_cast<std::size_t>(t) * x_stride + k0, x_stride,
                      y + static_cast<std::size_t>(t) * y_stride + r, y_stride, accumulate);
      switch (m - t) {
        case 5:
          panel_tile<5>(panel, kn, x + static_cast<std::size_t>(t) * x_stride + k0, x_stride,
                        y + static_cast<std::size_t>(t) * y_stride + r, y_stride, accumulate);
          break;
        case 4:
          panel_tile<4>(panel, kn, x + static_cast<std::size_t>(t) * x_stride + k0, x_stride,
                        y + static_cast<std::size_t>(t) * y_stride + r, y_stride, accumulate);
          break;
        case 3:
          panel_tile<3>(panel, kn, x + static_cast<std::size_t>(t) * x_stride + k0, x_stride,
                        y + static_cast<std::size_t>(t) * y_stride + r, y_stride, accumulate);
          break;
        case 2:
          panel_tile<2>(panel, kn, x + static_cast<std::size_t>(t) * x_stride + k0, x_stride,
                        y + static_cast<std::size_t>(t) * y_stride + r, y_stride, accumulate);
          break;
        case 1:
          panel_tile<1>(panel, kn, x + static_cast<std::size_t>(t) * x_stride + k0, x_stride,
                        y + static_cast<std::size_t>(t) * y_stride + r, y_stride, accumulate);
          break;
        default:
          break;
      }
    }
  }
  for (; r < row_end; ++r) {
    for (int t = 0; t < m; ++t) {
      tile<D, 1, 1>(base + r * row_bytes, row_bytes, w.cols, x + static_cast<std::size_t>(t) * x_stride,
                    x_stride, y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
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

// Peak FMA throughput: twelve independent accumulator chains keep both FMA pipes full.
double fma_flops(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (long it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  volatile float sink = hsum(sum);
  (void)sink;
  return 2.0 * 8 * 12 * static_cast<double>(iterations);
}

const Kernels kAvx2{"avx2", &matmul, &dot, &axpy, &fma_flops};

}  // namespace

const Kernels& avx2_kernel_table() {
  return kAvx2;
}

}  // namespace agentrt::engine::cpu
