// The AVX2/FMA/F16C kernels. This file alone is compiled with -mavx2 -mfma -mf16c and is entered only after
// the processor was checked (kernels_select.cpp), so it uses raw pointers only: no library templates whose
// AVX-compiled copies the linker could pick for other files.
#include <immintrin.h>

#include <cstddef>

#include "engine/cpu/kernel_tables.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/kernels_attention.h"

namespace agentrt::engine::cpu {
namespace {

// Readers of one weight row as fp32: load8(k) for k a multiple of 8 (Int4: within one 64-value half of a
// group), load1(k) for single values.
template <DType D>
struct DenseRow {
  const unsigned char* row;
  static DenseRow at(const WeightMatrix& w, int r) {
    return {static_cast<const unsigned char*>(w.data) +
            static_cast<std::size_t>(r) * w.cols * (D == DType::F32 ? 4 : 2)};
  }
  __m256 load8(int k) const {
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
  float load1(int k) const {
    if constexpr (D == DType::BF16) {
      const uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[k]) << 16;
      return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(static_cast<int>(bits))));
    } else if constexpr (D == DType::F16) {
      return _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[k]);
    } else {
      return reinterpret_cast<const float*>(row)[k];
    }
  }
};

struct Int8Row {
  const uint8_t* row;
  float scale;
  static Int8Row at(const WeightMatrix& w, int r) {
    return {static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * w.row_stride, w.scales[r]};
  }
  __m256 load8(int k) const {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + k));
    const __m256i q = _mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), _mm256_set1_epi32(128));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(scale));
  }
  float load1(int k) const { return static_cast<float>(static_cast<int>(row[k]) - 128) * scale; }
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
  __m256 load8(int k) const {
    const int g = k / kQuantGroup, j = k % kQuantGroup;
    const bool high = j >= kQuantGroup / 2;
    const __m128i bytes =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + g * (kQuantGroup / 2) + (high ? j - 64 : j)));
    __m256i q = _mm256_cvtepu8_epi32(bytes);
    q = high ? _mm256_srli_epi32(q, 4) : _mm256_and_si256(q, _mm256_set1_epi32(15));
    const float s = _cvtsh_ss(scales[g]);
    return _mm256_fmsub_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(s),
                           _mm256_set1_ps(static_cast<float>(zeros[g]) * s));
  }
  float load1(int k) const {
    const int g = k / kQuantGroup, j = k % kQuantGroup;
    const uint8_t b = row[g * (kQuantGroup / 2) + (j % (kQuantGroup / 2))];
    const int q = j >= kQuantGroup / 2 ? b >> 4 : b & 15;
    const float s = _cvtsh_ss(scales[g]);
    return static_cast<float>(q) * s - static_cast<float>(zeros[g]) * s;
  }
};

inline float hsum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// An R x T tile: R weight rows (from r0) against T activation rows, R*T accumulators in registers.
template <class Row, int R, int T>
inline void tile(const WeightMatrix& w, int r0, const float* x, int x_stride, float* y, int y_stride) {
  Row rows[R];
  for (int r = 0; r < R; ++r) rows[r] = Row::at(w, r0 + r);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const int cols = w.cols;
  int k = 0;
  for (; k + 8 <= cols; k += 8) {
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x + static_cast<std::size_t>(t) * x_stride + k);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = rows[r].load8(k);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      float sum = hsum(acc[r][t]);
      for (int kk = k; kk < cols; ++kk)
        sum += rows[r].load1(kk) * x[static_cast<std::size_t>(t) * x_stride + kk];
      y[static_cast<std::size_t>(t) * y_stride + r0 + r] = sum;
    }
  }
}

// Prefill tiling: a panel of 16 weight rows x kBlockK columns, converted to fp32 and stored k-major
// ([kBlockK][16], 16 KiB: stays in L1), is multiplied by 6 tokens at a time into 6 x 16 accumulators.
constexpr int kPanelRows = 16;
constexpr int kBlockK = 256;

template <class Row>
inline void pack_panel(const WeightMatrix& w, int r0, int k0, int kn, float* panel) {
  for (int r = 0; r < kPanelRows; ++r) {
    const Row row = Row::at(w, r0 + r);
    int k = 0;
    alignas(32) float chunk[8];
    for (; k + 8 <= kn; k += 8) {
      _mm256_store_ps(chunk, row.load8(k0 + k));
      for (int i = 0; i < 8; ++i) panel[(k + i) * kPanelRows + r] = chunk[i];
    }
    for (; k < kn; ++k) panel[k * kPanelRows + r] = row.load1(k0 + k);
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

template <class Row>
void matmul_rows(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                 int row_begin, int row_end) {
  if (m == 1) {
    // Decode: memory bound; eight rows in flight keep both FMA ports and the prefetchers busy.
    int r = row_begin;
    for (; r + 8 <= row_end; r += 8) tile<Row, 8, 1>(w, r, x, x_stride, y, y_stride);
    for (; r < row_end; ++r) tile<Row, 1, 1>(w, r, x, x_stride, y, y_stride);
    return;
  }
  // Prefill: rows in panels of 16 converted to fp32 once per k-block, then 6 tokens x 16 rows per step.
  int r = row_begin;
  const int panel_end = row_begin + (row_end - row_begin) / kPanelRows * kPanelRows;
  alignas(32) float panel[kBlockK * kPanelRows];
  for (; r < panel_end; r += kPanelRows) {
    for (int k0 = 0; k0 < w.cols; k0 += kBlockK) {
      const int kn = w.cols - k0 < kBlockK ? w.cols - k0 : kBlockK;
      pack_panel<Row>(w, r, k0, kn, panel);
      panel_tiles<6>(panel, kn, x + k0, x_stride, m, y + r, y_stride, k0 > 0);
    }
  }
  for (; r < row_end; ++r) {
    for (int t = 0; t < m; ++t) {
      tile<Row, 1, 1>(w, r, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                      y + static_cast<std::size_t>(t) * y_stride, y_stride);
    }
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

// ---- Integer products (decode with Int8/Int4 weights), through vpmaddubsw + vpmaddwd
// -----------------------

inline int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Same expressions as the portable quantize_input, so the same q.
void quantize_input(const float* x, int m, int x_stride, int cols, int8_t* q, float* scale, float* sum) {
  const int groups = (cols + kQuantGroup - 1) / kQuantGroup;
  const int stride = groups * kQuantGroup;
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int t = 0; t < m; ++t) {
    const float* xt = x + static_cast<std::size_t>(t) * x_stride;
    int8_t* qt = q + static_cast<std::size_t>(t) * stride;
    for (int g = 0; g < groups; ++g) {
      const int begin = g * kQuantGroup;
      const int n = cols - begin < kQuantGroup ? cols - begin : kQuantGroup;
      alignas(32) float v[kQuantGroup];
      for (int i = 0; i < kQuantGroup; ++i) v[i] = i < n ? xt[begin + i] : 0.0f;
      __m256 vmax = _mm256_setzero_ps();
      for (int i = 0; i < kQuantGroup; i += 8)
        vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_load_ps(v + i), abs_mask));
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      const float max_abs = _mm_cvtss_f32(m4);
      const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
      const __m256 vinv = _mm256_set1_ps(inv);
      __m256i total = _mm256_setzero_si256();
      for (int i = 0; i < kQuantGroup; i += 8) {
        const __m256i qi = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_load_ps(v + i), vinv));
        total = _mm256_add_epi32(total, qi);
        alignas(32) int32_t lanes[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), qi);
        for (int j = 0; j < 8; ++j) qt[begin + i + j] = static_cast<int8_t>(lanes[j]);
      }
      const float s = max_abs / 127.0f;
      scale[static_cast<std::size_t>(t) * groups + g] = s;
      sum[static_cast<std::size_t>(t) * groups + g] = s * static_cast<float>(hsum_epi32(total));
    }
  }
}

// sum over 32 pairs of a (u8 < 128) * b (s8) into 8 int32 lanes.
inline __m256i dot_u8s8(__m256i acc, __m256i a, __m256i b) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}

// Int8: biased bytes back to signed q, then |q| * (x with q's sign) so that vpmaddubsw cannot saturate.
inline __m256i dot_int8(__m256i acc, __m256i biased, __m256i x) {
  const __m256i q = _mm256_xor_si256(biased, _mm256_set1_epi8(static_cast<char>(0x80)));
  return dot_u8s8(acc, _mm256_abs_epi8(q), _mm256_sign_epi8(x, q));
}

void matmul_quantized(const WeightMatrix& w, const QuantizedInput& x, float* y, int y_stride, int row_begin,
                      int row_end) {
  const int groups = x.groups;
  const __m256i low4 = _mm256_set1_epi8(15);
  for (int r = row_begin; r < row_end; ++r) {
    for (int t = 0; t < x.m; ++t) {
      const int8_t* xq = x.q + static_cast<std::size_t>(t) * x.stride;
      const float* sx = x.scale + static_cast<std::size_t>(t) * groups;
      const float* sumx = x.sum + static_cast<std::size_t>(t) * groups;
      __m256 facc = _mm256_setzero_ps();
      float tail = 0.0f;
      if (w.format == WeightFormat::Int8) {
        const uint8_t* row = static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * w.row_stride;
        for (int g = 0; g < groups; ++g) {
          __m256i acc = _mm256_setzero_si256();
          for (int i = 0; i < kQuantGroup; i += 32) {
            const int k = g * kQuantGroup + i;
            acc = dot_int8(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k)),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + k)));
          }
          facc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(sx[g]), facc);
        }
        y[static_cast<std::size_t>(t) * y_stride + r] = w.scales[r] * hsum(facc);
        continue;
      }
      const uint8_t* row =
          static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(r) * groups * (kQuantGroup / 2);
      const uint16_t* s16 = w.group_scales + static_cast<std::size_t>(r) * groups;
      const uint8_t* z = w.group_zeros + static_cast<std::size_t>(r) * groups;
      for (int g = 0; g < groups; ++g) {
        const uint8_t* bytes = row + g * (kQuantGroup / 2);
        const int8_t* xg = xq + g * kQuantGroup;
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
          const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + 32 * h));
          const __m256i lo = _mm256_and_si256(packed, low4);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
          acc = dot_u8s8(acc, lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xg + 32 * h)));
          acc = dot_u8s8(acc, hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xg + 64 + 32 * h)));
        }
        const float s = _cvtsh_ss(s16[g]);
        facc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(s * sx[g]), facc);
        tail += static_cast<float>(z[g]) * s * sumx[g];
      }
      y[static_cast<std::size_t>(t) * y_stride + r] = hsum(facc) - tail;
    }
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

float dot_i8(const float* a, const int8_t* b, int n) {
  __m256 s0 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 bv =
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i))));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), bv, s0);
  }
  float sum = hsum(s0);
  for (; i < n; ++i) sum += a[i] * static_cast<float>(b[i]);
  return sum;
}

void axpy_i8(float a, const int8_t* x, float* y, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv =
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + i))));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * static_cast<float>(x[i]);
}

// Streaming reads: 32-byte non-temporal loads (vmovntdqa), eight in flight per iteration.
uint64_t read_bytes(const void* data, std::size_t bytes) {
  auto* p = const_cast<__m256i*>(static_cast<const __m256i*>(data));
  const std::size_t n = bytes / 32;
  __m256i a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) a[j] = _mm256_xor_si256(a[j], _mm256_stream_load_si256(p + i + j));
  }
  for (; i < n; ++i) a[0] = _mm256_xor_si256(a[0], _mm256_stream_load_si256(p + i));
  for (int j = 1; j < 8; ++j) a[0] = _mm256_xor_si256(a[0], a[j]);
  return static_cast<uint64_t>(_mm256_extract_epi64(a[0], 0) + _mm256_extract_epi64(a[0], 3));
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

const Kernels kAvx2{"avx2",
                    &matmul,
                    &quantize_input,
                    &matmul_quantized,
                    nullptr,
                    &dot,
                    &axpy,
                    &dot_i8,
                    &axpy_i8,
                    &scores_generic<dot>,
                    &mix_generic<axpy>,
                    &scores_i8_generic<dot_i8>,
                    &mix_i8_generic<axpy_i8>,
                    &fma_flops,
                    &read_bytes};

}  // namespace

const Kernels& avx2_kernel_table() {
  return kAvx2;
}

}  // namespace agentrt::engine::cpu
