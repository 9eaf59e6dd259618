// The AVX-512 kernels, included by kernels_avx512.cpp (F/BW/VL/DQ), kernels_avx512_vnni.cpp (+VNNI: the
// integer products use vpdpbusd) and kernels_avx512_bf16.cpp (+BF16: prefill products use vdpbf16ps). Each of
// those files is compiled with its own -m flags and entered only after the processor was checked
// (kernels_select.cpp), so everything here has internal linkage and uses raw pointers only: no library
// templates whose AVX-512 copies the linker could pick for other files.
#pragma once

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() (`__m512i __Y = __Y;`), which its own
// -Wuninitialized reports once they are inlined here (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {
namespace {

inline int imin(int a, int b) {
  return a < b ? a : b;
}

inline __mmask16 tail_mask(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

// ---- Reading weight rows as fp32, 16 at a time
// ------------------------------------------------------------- A reader for one row: load16(k) for k a
// multiple of 16 (Int4: within one 64-value half of a group), load_tail(k, n) for the last n < 16 values
// (Dense and Int8 only; Int4 rows are whole groups).

template <DType D>
struct DenseRow {
  const unsigned char* row;
  static DenseRow at(const WeightMatrix& w, int r) {
    return {static_cast<const unsigned char*>(w.data) +
            static_cast<std::size_t>(r) * w.cols * (D == DType::F32 ? 4 : 2)};
  }
  __m512 load16(int k) const {
    if constexpr (D == DType::BF16) {
      const __m256i raw =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * static_cast<std::size_t>(k)));
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
    } else if constexpr (D == DType::F16) {
      const __m256i raw =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * static_cast<std::size_t>(k)));
      return _mm512_cvtph_ps(raw);
    } else {
      return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
    }
  }
  __m512 load_tail(int k, int n) const {
    const __mmask16 mask = tail_mask(n);
    if constexpr (D == DType::BF16) {
      const __m256i raw = _mm256_maskz_loadu_epi16(mask, row + 2 * static_cast<std::size_t>(k));
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
    } else if constexpr (D == DType::F16) {
      const __m256i raw = _mm256_maskz_loadu_epi16(mask, row + 2 * static_cast<std::size_t>(k));
      return _mm512_cvtph_ps(raw);
    } else {
      return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(row) + k);
    }
  }
};

struct Int8Row {
  const uint8_t* row;
  __m512 scale;
  static Int8Row at(const WeightMatrix& w, int r) {
    return {static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * w.row_stride,
            _mm512_set1_ps(w.scales[r])};
  }
  static __m512 widen(__m128i bytes, __m512 scale) {
    const __m512i q = _mm512_sub_epi32(_mm512_cvtepu8_epi32(bytes), _mm512_set1_epi32(128));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(q), scale);
  }
  __m512 load16(int k) const {
    return widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k)), scale);
  }
  __m512 load_tail(int k, int n) const {
    // The padding up to row_stride holds 128 (zero); the mask keeps the load inside the row all the same.
    return widen(_mm_maskz_loadu_epi8(tail_mask(n), row + k), scale);
  }
};

struct Int4Row {
  const uint8_t* row;
  const uint16_t* scales;
  const uint8_t* zeros;
  static Int4Row at(const WeightMatrix& w, int r) {
    const int groups = w.groups();
    return {static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * groups * (kQuantGroup / 2),
            w.group_scales + static_cast<std::size_t>(r) * groups,
            w.group_zeros + static_cast<std::size_t>(r) * groups};
  }
  __m512 load16(int k) const {
    const int g = k / kQuantGroup, j = k % kQuantGroup;
    const bool high = j >= kQuantGroup / 2;
    const __m128i bytes =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + g * (kQuantGroup / 2) + (high ? j - 64 : j)));
    __m512i q = _mm512_cvtepu8_epi32(bytes);
    q = high ? _mm512_srli_epi32(q, 4) : _mm512_and_si512(q, _mm512_set1_epi32(15));
    const float s = _cvtsh_ss(scales[g]);
    return _mm512_fmsub_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(s),
                           _mm512_set1_ps(static_cast<float>(zeros[g]) * s));
  }
  __m512 load_tail(int, int) const { return _mm512_setzero_ps(); }  // never called: cols % 128 == 0
};

// ---- fp32 products: decode tiles and prefill panels
// --------------------------------------------------------

// R weight rows against T activation rows, R*T accumulators.
template <class Row, int R, int T>
inline void tile(const WeightMatrix& w, int r0, const float* x, int x_stride, float* y, int y_stride) {
  Row rows[R];
  for (int r = 0; r < R; ++r) rows[r] = Row::at(w, r0 + r);
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  const int cols = w.cols;
  int k = 0;
  for (; k + 16 <= cols; k += 16) {
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x + static_cast<std::size_t>(t) * x_stride + k);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = rows[r].load16(k);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  if (k < cols) {
    const int n = cols - k;
    __m512 xv[T];
    for (int t = 0; t < T; ++t)
      xv[t] = _mm512_maskz_loadu_ps(tail_mask(n), x + static_cast<std::size_t>(t) * x_stride + k);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = rows[r].load_tail(k, n);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t)
      y[static_cast<std::size_t>(t) * y_stride + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// Prefill: a panel of 32 weight rows x kBlockK columns, converted to fp32 and stored k-major ([kBlockK][32],
// 16 KiB: stays in L1), is multiplied by 12 tokens at a time into 12 x 32 accumulators.
constexpr int kPanelRows = 32;
constexpr int kBlockK = 128;

template <class Row>
inline void pack_panel(const WeightMatrix& w, int r0, int k0, int kn, float* panel) {
  alignas(64) float chunk[16];
  for (int r = 0; r < kPanelRows; ++r) {
    const Row row = Row::at(w, r0 + r);
    int k = 0;
    for (; k + 16 <= kn; k += 16) {
      _mm512_store_ps(chunk, row.load16(k0 + k));
      for (int i = 0; i < 16; ++i) panel[(k + i) * kPanelRows + r] = chunk[i];
    }
    if (k < kn) {
      _mm512_store_ps(chunk, row.load_tail(k0 + k, kn - k));
      for (int i = 0; i < kn - k; ++i) panel[(k + i) * kPanelRows + r] = chunk[i];
    }
  }
}

template <int T>
inline void panel_tile(const float* panel, int kn, const float* x, int x_stride, float* y, int y_stride,
                       bool accumulate) {
  __m512 acc[T][2];
  for (int t = 0; t < T; ++t) {
    float* yt = y + static_cast<std::size_t>(t) * y_stride;
    acc[t][0] = accumulate ? _mm512_loadu_ps(yt) : _mm512_setzero_ps();
    acc[t][1] = accumulate ? _mm512_loadu_ps(yt + 16) : _mm512_setzero_ps();
  }
  for (int k = 0; k < kn; ++k) {
    const __m512 b0 = _mm512_load_ps(panel + k * kPanelRows);
    const __m512 b1 = _mm512_load_ps(panel + k * kPanelRows + 16);
    for (int t = 0; t < T; ++t) {
      const __m512 a = _mm512_set1_ps(x[static_cast<std::size_t>(t) * x_stride + k]);
      acc[t][0] = _mm512_fmadd_ps(a, b0, acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(a, b1, acc[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float* yt = y + static_cast<std::size_t>(t) * y_stride;
    _mm512_storeu_ps(yt, acc[t][0]);
    _mm512_storeu_ps(yt + 16, acc[t][1]);
  }
}

template <int T>
inline void panel_tiles(const float* panel, int kn, const float* x, int x_stride, int m, float* y,
                        int y_stride, bool accumulate) {
  int t = 0;
  for (; t + T <= m; t += T)
    panel_tile<T>(panel, kn, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                  y + static_cast<std::size_t>(t) * y_stride, y_stride, accumulate);
  if constexpr (T > 1) {
    if (t < m)
      panel_tiles<T - 1>(panel, kn, x + static_cast<std::size_t>(t) * x_stride, x_stride, m - t,
                         y + static_cast<std::size_t>(t) * y_stride, y_stride, accumulate);
  }
}

// Decode: one weight row at a time against T activation rows, four accumulators per token. Rows are read in
// order, so each thread streams its rows as one sequential read; several rows in flight (separate streams a
// row apart) read measurably slower on this machine's prefetchers.
template <class Row, int T>
inline void row_dot(const WeightMatrix& w, int r, const float* x, int x_stride, float* y, int y_stride) {
  const Row row = Row::at(w, r);
  __m512 acc[T][4];
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < 4; ++j) acc[t][j] = _mm512_setzero_ps();
  }
  const int cols = w.cols;
  int k = 0;
  for (; k + 64 <= cols; k += 64) {
    __m512 wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = row.load16(k + 16 * j);
    for (int t = 0; t < T; ++t) {
      const float* xt = x + static_cast<std::size_t>(t) * x_stride + k;
      for (int j = 0; j < 4; ++j) acc[t][j] = _mm512_fmadd_ps(wv[j], _mm512_loadu_ps(xt + 16 * j), acc[t][j]);
    }
  }
  for (; k < cols; k += 16) {
    const int n = cols - k;
    const __m512 wv = n >= 16 ? row.load16(k) : row.load_tail(k, n);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail_mask(n), x + static_cast<std::size_t>(t) * x_stride + k);
      acc[t][0] = _mm512_fmadd_ps(wv, xv, acc[t][0]);
    }
  }
  for (int t = 0; t < T; ++t) {
    const __m512 sum =
        _mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3]));
    y[static_cast<std::size_t>(t) * y_stride + r] = _mm512_reduce_add_ps(sum);
  }
}

template <class Row>
void matmul_rows(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                 int row_begin, int row_end) {
  if (m <= 2) {
    for (int r = row_begin; r < row_end; ++r) {
      if (m == 1) {
        row_dot<Row, 1>(w, r, x, x_stride, y, y_stride);
      } else {
        row_dot<Row, 2>(w, r, x, x_stride, y, y_stride);
      }
    }
    return;
  }
  int r = row_begin;
  const int panel_end = row_begin + (row_end - row_begin) / kPanelRows * kPanelRows;
  alignas(64) float panel[kBlockK * kPanelRows];
  for (; r < panel_end; r += kPanelRows) {
    for (int k0 = 0; k0 < w.cols; k0 += kBlockK) {
      const int kn = imin(kBlockK, w.cols - k0);
      pack_panel<Row>(w, r, k0, kn, panel);
      panel_tiles<12>(panel, kn, x + k0, x_stride, m, y + r, y_stride, k0 > 0);
    }
  }
  for (; r + 4 <= row_end; r += 4) {
    for (int t = 0; t < m; ++t)
      tile<Row, 4, 1>(w, r, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                      y + static_cast<std::size_t>(t) * y_stride, y_stride);
  }
  for (; r < row_end; ++r) {
    for (int t = 0; t < m; ++t)
      tile<Row, 1, 1>(w, r, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                      y + static_cast<std::size_t>(t) * y_stride, y_stride);
  }
}

void matmul(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride, int row_begin,
            int row_end) {
  if (w.format == WeightFormat::Int8)
    return matmul_rows<Int8Row>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
  if (w.format == WeightFormat::Int4)
    return matmul_rows<Int4Row>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
  switch (w.dtype) {
    case DType::BF16:
      return matmul_rows<DenseRow<DType::BF16>>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F16:
      return matmul_rows<DenseRow<DType::F16>>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F32:
      return matmul_rows<DenseRow<DType::F32>>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::I8:
    case DType::I32:
      return;  // never dense weights (checkpoint.cpp)
  }
}

// ---- Integer products (decode with Int8/Int4 weights)
// ------------------------------------------------------

// Same expressions as the portable quantize_input, so the same q.
void quantize_input(const float* x, int m, int x_stride, int cols, int8_t* q, float* scale, float* sum) {
  const int groups = (cols + kQuantGroup - 1) / kQuantGroup;
  const int stride = groups * kQuantGroup;
  const __m512 sign_off = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int t = 0; t < m; ++t) {
    const float* xt = x + static_cast<std::size_t>(t) * x_stride;
    int8_t* qt = q + static_cast<std::size_t>(t) * stride;
    for (int g = 0; g < groups; ++g) {
      const int begin = g * kQuantGroup, n = imin(cols - begin, kQuantGroup);
      __m512 v[8];
      __m512 vmax = _mm512_setzero_ps();
      for (int i = 0; i < 8; ++i) {
        const int left = n - 16 * i;
        v[i] = left >= 16 ? _mm512_loadu_ps(xt + begin + 16 * i)
                          : (left > 0 ? _mm512_maskz_loadu_ps(tail_mask(left), xt + begin + 16 * i)
                                      : _mm512_setzero_ps());
        vmax = _mm512_max_ps(vmax, _mm512_and_ps(v[i], sign_off));
      }
      const float max_abs = _mm512_reduce_max_ps(vmax);
      const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
      const __m512 vinv = _mm512_set1_ps(inv);
      __m512i total = _mm512_setzero_si512();
      for (int i = 0; i < 8; ++i) {
        const __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(v[i], vinv));
        total = _mm512_add_epi32(total, qi);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qt + begin + 16 * i), _mm512_cvtsepi32_epi8(qi));
      }
      const float s = max_abs / 127.0f;
      scale[static_cast<std::size_t>(t) * groups + g] = s;
      sum[static_cast<std::size_t>(t) * groups + g] = s * static_cast<float>(_mm512_reduce_add_epi32(total));
    }
  }
}

// u8 x s8 products summed per 32-bit lane: vpdpbusd where the processor has VNNI, else vpmaddubsw + vpmaddwd.
// `a` must stay below 128 on the non-VNNI path (vpmaddubsw saturates at 16 bits): Int4 nibbles do; Int8 takes
// the signed route below instead.
inline __m512i dot_u8s8(__m512i acc, __m512i a, __m512i b) {
#if defined(__AVX512VNNI__)
  return _mm512_dpbusd_epi32(acc, a, b);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(a, b), _mm512_set1_epi16(1)));
#endif
}

// Int8 weights (biased bytes) against int8 activations, 64 values: returns the lanes of sum(byte * x) with
// VNNI, or of sum(q * x) without (signed weights through |q| and x with q's sign; the caller knows which).
inline __m512i dot_int8(__m512i acc, __m512i biased, __m512i x) {
#if defined(__AVX512VNNI__)
  return _mm512_dpbusd_epi32(acc, biased, x);
#else
  const __m512i q = _mm512_xor_si512(biased, _mm512_set1_epi8(static_cast<char>(0x80)));
  const __mmask64 negative = _mm512_movepi8_mask(q);
  const __m512i xs = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
  return _mm512_add_epi32(
      acc, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(q), xs), _mm512_set1_epi16(1)));
#endif
}

#if defined(__AVX512VNNI__)
constexpr float kInt8Offset = 128.0f;  // dpbusd multiplies the biased bytes
#else
constexpr float kInt8Offset = 0.0f;
#endif

template <int T>
inline void int8_row(const WeightMatrix& w, int r, const QuantizedInput& x, int t0, float* y, int y_stride) {
  const uint8_t* row = static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * w.row_stride;
  __m512 facc[T];
  float offset[T];
  for (int t = 0; t < T; ++t) facc[t] = _mm512_setzero_ps(), offset[t] = 0.0f;
  for (int g = 0; g < x.groups; ++g) {
    const __m512i w0 = _mm512_loadu_si512(row + g * kQuantGroup);
    const __m512i w1 = _mm512_loadu_si512(row + g * kQuantGroup + 64);
    for (int t = 0; t < T; ++t) {
      const int8_t* xq = x.q + static_cast<std::size_t>(t0 + t) * x.stride + g * kQuantGroup;
      __m512i acc = dot_int8(_mm512_setzero_si512(), w0, _mm512_loadu_si512(xq));
      acc = dot_int8(acc, w1, _mm512_loadu_si512(xq + 64));
      const std::size_t sg = static_cast<std::size_t>(t0 + t) * x.groups + g;
      facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(x.scale[sg]), facc[t]);
      offset[t] += x.sum[sg];
    }
  }
  for (int t = 0; t < T; ++t) {
    y[static_cast<std::size_t>(t0 + t) * y_stride + r] =
        w.scales[r] * (_mm512_reduce_add_ps(facc[t]) - kInt8Offset * offset[t]);
  }
}

template <int T>
inline void int4_row(const WeightMatrix& w, int r, const QuantizedInput& x, int t0, float* y, int y_stride) {
  const int groups = x.groups;
  const uint8_t* row =
      static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * groups * (kQuantGroup / 2);
  const uint16_t* s16 = w.group_scales + static_cast<std::size_t>(r) * groups;
  const uint8_t* zeros = w.group_zeros + static_cast<std::size_t>(r) * groups;
  const __m512i low4 = _mm512_set1_epi8(15);
  __m512 facc[T], zacc[T];
  for (int t = 0; t < T; ++t) facc[t] = _mm512_setzero_ps(), zacc[t] = _mm512_setzero_ps();
  for (int g = 0; g < groups; ++g) {
    const __m512i packed = _mm512_loadu_si512(row + g * (kQuantGroup / 2));
    const __m512i lo = _mm512_and_si512(packed, low4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low4);
    const __m512 sg = _mm512_set1_ps(_cvtsh_ss(s16[g]));
    for (int t = 0; t < T; ++t) {
      const int8_t* xq = x.q + static_cast<std::size_t>(t0 + t) * x.stride + g * kQuantGroup;
      __m512i acc = dot_u8s8(_mm512_setzero_si512(), lo, _mm512_loadu_si512(xq));
      acc = dot_u8s8(acc, hi, _mm512_loadu_si512(xq + 64));
      const __m512 xs = _mm512_set1_ps(x.scale[static_cast<std::size_t>(t0 + t) * groups + g]);
      facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(sg, xs), facc[t]);
    }
  }
  // The zero-point term: sum_g z[g] * s[g] * sum[g], sixteen groups at a time.
  for (int g = 0; g < groups; g += 16) {
    const __mmask16 mask = tail_mask(groups - g);
    const __m512 sv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, s16 + g));
    const __m512 zs =
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, zeros + g))), sv);
    for (int t = 0; t < T; ++t) {
      const float* sum = x.sum + static_cast<std::size_t>(t0 + t) * groups;
      zacc[t] = _mm512_fmadd_ps(zs, _mm512_maskz_loadu_ps(mask, sum + g), zacc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    y[static_cast<std::size_t>(t0 + t) * y_stride + r] =
        _mm512_reduce_add_ps(facc[t]) - _mm512_reduce_add_ps(zacc[t]);
  }
}

template <int T>
inline void quantized_rows(const WeightMatrix& w, const QuantizedInput& x, int t0, float* y, int y_stride,
                           int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    if (w.format == WeightFormat::Int8) {
      int8_row<T>(w, r, x, t0, y, y_stride);
    } else {
      int4_row<T>(w, r, x, t0, y, y_stride);
    }
  }
}

void matmul_quantized(const WeightMatrix& w, const QuantizedInput& x, float* y, int y_stride, int row_begin,
                      int row_end) {
  // Tokens four at a time: each row's unpacked weights serve four activation vectors.
  int t = 0;
  for (; t + 4 <= x.m; t += 4) quantized_rows<4>(w, x, t, y, y_stride, row_begin, row_end);
  switch (x.m - t) {
    case 3:
      return quantized_rows<3>(w, x, t, y, y_stride, row_begin, row_end);
    case 2:
      return quantized_rows<2>(w, x, t, y, y_stride, row_begin, row_end);
    case 1:
      return quantized_rows<1>(w, x, t, y, y_stride, row_begin, row_end);
    default:
      return;
  }
}

// ---- Vector primitives
// --------------------------------------------------------------------------------------

float dot(const float* a, const float* b, int n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = tail_mask(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy(float a, const float* x, float* y, int n) {
  const __m512 av = _mm512_set1_ps(a);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 mask = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        y + i, mask,
        _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mask, x + i), _mm512_maskz_loadu_ps(mask, y + i)));
  }
}

inline __m512 load_i8(const int8_t* p, __mmask16 mask) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, p)));
}

float dot_i8(const float* a, const int8_t* b, int n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load_i8(b + i, 0xffff), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load_i8(b + i + 16, 0xffff), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = tail_mask(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), load_i8(b + i, mask), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy_i8(float a, const int8_t* x, float* y, int n) {
  const __m512 av = _mm512_set1_ps(a);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 mask = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, mask,
                          _mm512_fmadd_ps(av, load_i8(x + i, mask), _mm512_maskz_loadu_ps(mask, y + i)));
  }
}

// ---- Attention over a run of positions
// ---------------------------------------------------------------------- The query (or the output) stays in
// registers for the common head sizes; positions four at a time.

inline __m512 load_head(const float* p, int j) {
  return _mm512_loadu_ps(p + 16 * j);
}
inline __m512 load_head(const int8_t* p, int j) {
  return _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j))));
}

template <int D, class T>
inline void scores_fixed(const float* q, const T* k, std::size_t stride, const float* scale,
                         std::size_t scale_stride, int count, float* out) {
  constexpr int V = D / 16;
  __m512 qv[V];
  for (int j = 0; j < V; ++j) qv[j] = _mm512_loadu_ps(q + 16 * j);
  int i = 0;
  for (; i + 4 <= count; i += 4) {
    __m512 acc[4];
    for (int u = 0; u < 4; ++u) {
      const T* ki = k + static_cast<std::size_t>(i + u) * stride;
      acc[u] = _mm512_mul_ps(qv[0], load_head(ki, 0));
      for (int j = 1; j < V; ++j) acc[u] = _mm512_fmadd_ps(qv[j], load_head(ki, j), acc[u]);
    }
    for (int u = 0; u < 4; ++u) {
      const float s = _mm512_reduce_add_ps(acc[u]);
      out[i + u] = scale != nullptr ? s * scale[static_cast<std::size_t>(i + u) * scale_stride] : s;
    }
  }
  for (; i < count; ++i) {
    const T* ki = k + static_cast<std::size_t>(i) * stride;
    __m512 acc = _mm512_mul_ps(qv[0], load_head(ki, 0));
    for (int j = 1; j < V; ++j) acc = _mm512_fmadd_ps(qv[j], load_head(ki, j), acc);
    const float s = _mm512_reduce_add_ps(acc);
    out[i] = scale != nullptr ? s * scale[static_cast<std::size_t>(i) * scale_stride] : s;
  }
}

template <int D, class T>
inline void mix_fixed(const float* p, const T* v, std::size_t stride, const float* scale,
                      std::size_t scale_stride, int count, float* out) {
  constexpr int V = D / 16;
  __m512 o[V];
  for (int j = 0; j < V; ++j) o[j] = _mm512_loadu_ps(out + 16 * j);
  for (int i = 0; i < count; ++i) {
    const float w = scale != nullptr ? p[i] * scale[static_cast<std::size_t>(i) * scale_stride] : p[i];
    const __m512 pv = _mm512_set1_ps(w);
    const T* vi = v + static_cast<std::size_t>(i) * stride;
    for (int j = 0; j < V; ++j) o[j] = _mm512_fmadd_ps(pv, load_head(vi, j), o[j]);
  }
  for (int j = 0; j < V; ++j) _mm512_storeu_ps(out + 16 * j, o[j]);
}

void scores(const float* q, const float* k, std::size_t stride, int count, int d, float* out) {
  if (d == 128) return scores_fixed<128>(q, k, stride, nullptr, 0, count, out);
  if (d == 64) return scores_fixed<64>(q, k, stride, nullptr, 0, count, out);
  for (int i = 0; i < count; ++i) out[i] = dot(q, k + static_cast<std::size_t>(i) * stride, d);
}

void mix(const float* p, const float* v, std::size_t stride, int count, int d, float* out) {
  if (d == 128) return mix_fixed<128>(p, v, stride, nullptr, 0, count, out);
  if (d == 64) return mix_fixed<64>(p, v, stride, nullptr, 0, count, out);
  for (int i = 0; i < count; ++i) axpy(p[i], v + static_cast<std::size_t>(i) * stride, out, d);
}

void scores_i8(const float* q, const int8_t* k, std::size_t stride, const float* scale,
               std::size_t scale_stride, int count, int d, float* out) {
  if (d == 128) return scores_fixed<128>(q, k, stride, scale, scale_stride, count, out);
  if (d == 64) return scores_fixed<64>(q, k, stride, scale, scale_stride, count, out);
  for (int i = 0; i < count; ++i) {
    out[i] = dot_i8(q, k + static_cast<std::size_t>(i) * stride, d) *
             scale[static_cast<std::size_t>(i) * scale_stride];
  }
}

void mix_i8(const float* p, const int8_t* v, std::size_t stride, const float* scale, std::size_t scale_stride,
            int count, int d, float* out) {
  if (d == 128) return mix_fixed<128>(p, v, stride, scale, scale_stride, count, out);
  if (d == 64) return mix_fixed<64>(p, v, stride, scale, scale_stride, count, out);
  for (int i = 0; i < count; ++i) {
    axpy_i8(p[i] * scale[static_cast<std::size_t>(i) * scale_stride],
            v + static_cast<std::size_t>(i) * stride, out, d);
  }
}

// Peak fp32 FMA throughput: twelve independent accumulator chains keep both FMA pipes full.
[[maybe_unused]] double fma_flops_f32(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (long it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return 2.0 * 16 * 12 * static_cast<double>(iterations);
}

// Streaming reads: 64-byte non-temporal loads (vmovntdqa), eight in flight per iteration.
uint64_t read_bytes(const void* data, std::size_t bytes) {
  auto* p = const_cast<__m512i*>(static_cast<const __m512i*>(data));
  const std::size_t n = bytes / 64;
  __m512i a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) a[j] = _mm512_xor_si512(a[j], _mm512_stream_load_si512(p + i + j));
  }
  for (; i < n; ++i) a[0] = _mm512_xor_si512(a[0], _mm512_stream_load_si512(p + i));
  for (int j = 1; j < 8; ++j) a[0] = _mm512_xor_si512(a[0], a[j]);
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(a[0]));
}

}  // namespace
}  // namespace agentrt::engine::cpu
