// The AVX-512 kernels with AVX512_BF16 (and VNNI): prefill products with vdpbf16ps, 32 multiply-adds per
// instruction, twice the fp32 FMA rate. The activations are rounded to bf16 (Bf16Input); the weights are bf16
// already, or int8/int4 dequantized to bf16 while a panel is packed. Compiled with the AVX-512 flags plus
// -mavx512vnni -mavx512bf16 (engine/CMakeLists.txt); see kernels_avx512_impl.h.
#include "engine/cpu/kernel_tables.h"
#include "engine/cpu/kernels_avx512_impl.h"

namespace agentrt::engine::cpu {
namespace {

// A panel: 64 weight rows x kBf16BlockK columns as bf16 pairs, pair-major: panel[p * 64 + r] holds w[r, 2p]
// in its low and w[r, 2p + 1] in its high half (64 KiB: stays in L2 while every token tile streams over it).
constexpr int kBf16Rows = 64;
constexpr int kBf16BlockK = 512;

// 32 values of a row from k (n <= 32 of them; zero past n) as 16 bf16 pairs. Dense bf16 rows are loaded as
// they are; other formats are converted to fp32 and rounded.
template <class Row>
inline __m512i bf16_pairs(const Row& row, int k, int n) {
  if constexpr (__is_same(Row, DenseRow<DType::BF16>)) {
    const unsigned char* at = row.row + 2 * static_cast<std::size_t>(k);
    if (n >= 32) return _mm512_loadu_si512(at);
    return _mm512_maskz_loadu_epi16(static_cast<__mmask32>((1ull << n) - 1), at);
  } else {
    const __m512 a = n >= 16 ? row.load16(k) : row.load_tail(k, n);
    const __m512 b =
        n >= 32 ? row.load16(k + 16) : (n > 16 ? row.load_tail(k + 16, n - 16) : _mm512_setzero_ps());
    return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
  }
}

// r[i] (row i's 16 dwords) becomes column i: a 16 x 16 transpose of 32-bit elements.
inline void transpose16(__m512i (&r)[16]) {
  __m512i t[16], u[16], v[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      v[8 * i + j] = _mm512_shuffle_i32x4(u[8 * i + j], u[8 * i + 4 + j], 0x88);
      v[8 * i + 4 + j] = _mm512_shuffle_i32x4(u[8 * i + j], u[8 * i + 4 + j], 0xdd);
    }
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_i32x4(v[j], v[8 + j], 0x88);
    r[j + 8] = _mm512_shuffle_i32x4(v[j], v[8 + j], 0xdd);
  }
}

// 16 rows x 32 columns at a time: each row's 16 pairs in a register, transposed into 16 pair-rows of the
// panel.
template <class Row>
inline void pack_bf16_panel(const WeightMatrix& w, int r0, int rows, int k0, int kn, uint32_t* panel) {
  for (int group = 0; group < kBf16Rows / 16; ++group) {
    Row readers[16];
    for (int i = 0; i < 16; ++i) {
      const int r = group * 16 + i;
      if (r < rows) readers[i] = Row::at(w, r0 + r);
    }
    for (int k = 0; k < kn; k += 32) {
      const int n = imin(32, kn - k);
      __m512i block[16];
      for (int i = 0; i < 16; ++i) {
        block[i] = group * 16 + i < rows ? bf16_pairs(readers[i], k0 + k, n) : _mm512_setzero_si512();
      }
      transpose16(block);
      const int pairs = (n + 1) / 2;
      for (int p = 0; p < pairs; ++p)
        _mm512_store_si512(panel + (k / 2 + p) * kBf16Rows + group * 16, block[p]);
    }
  }
}

// y[t, 0:64] (+)= sum_p x[t, 2p:2p+2] . panel[p, 0:64] for T tokens; rows past `rows` are not stored.
template <int T>
inline void bf16_tile(const uint32_t* panel, int pairs, const uint16_t* x, int x_stride, float* y,
                      int y_stride, int rows, bool accumulate) {
  __mmask16 mask[4];
  for (int j = 0; j < 4; ++j) mask[j] = tail_mask(rows - 16 * j > 0 ? rows - 16 * j : 0);
  __m512 acc[T][4];
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < 4; ++j) {
      acc[t][j] = accumulate
                      ? _mm512_maskz_loadu_ps(mask[j], y + static_cast<std::size_t>(t) * y_stride + 16 * j)
                      : _mm512_setzero_ps();
    }
  }
  for (int p = 0; p < pairs; ++p) {
    const uint32_t* b = panel + p * kBf16Rows;
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_load_si512(b));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_load_si512(b + 16));
    const __m512bh b2 = reinterpret_cast<__m512bh>(_mm512_load_si512(b + 32));
    const __m512bh b3 = reinterpret_cast<__m512bh>(_mm512_load_si512(b + 48));
    for (int t = 0; t < T; ++t) {
      const __m512bh a = reinterpret_cast<__m512bh>(
          _mm512_broadcastd_epi32(_mm_loadu_si32(x + static_cast<std::size_t>(t) * x_stride + 2 * p)));
      acc[t][0] = _mm512_dpbf16_ps(acc[t][0], a, b0);
      acc[t][1] = _mm512_dpbf16_ps(acc[t][1], a, b1);
      acc[t][2] = _mm512_dpbf16_ps(acc[t][2], a, b2);
      acc[t][3] = _mm512_dpbf16_ps(acc[t][3], a, b3);
    }
  }
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < 4; ++j)
      _mm512_mask_storeu_ps(y + static_cast<std::size_t>(t) * y_stride + 16 * j, mask[j], acc[t][j]);
  }
}

template <int T>
inline void bf16_tiles(const uint32_t* panel, int pairs, const uint16_t* x, int x_stride, int m, float* y,
                       int y_stride, int rows, bool accumulate) {
  int t = 0;
  for (; t + T <= m; t += T)
    bf16_tile<T>(panel, pairs, x + static_cast<std::size_t>(t) * x_stride, x_stride,
                 y + static_cast<std::size_t>(t) * y_stride, y_stride, rows, accumulate);
  if constexpr (T > 1) {
    if (t < m)
      bf16_tiles<T - 1>(panel, pairs, x + static_cast<std::size_t>(t) * x_stride, x_stride, m - t,
                        y + static_cast<std::size_t>(t) * y_stride, y_stride, rows, accumulate);
  }
}

template <class Row>
void matmul_bf16_rows(const WeightMatrix& w, const Bf16Input& x, float* y, int y_stride, int row_begin,
                      int row_end) {
  alignas(64) static thread_local uint32_t panel[kBf16BlockK / 2 * kBf16Rows];
  for (int r0 = row_begin; r0 < row_end; r0 += kBf16Rows) {
    const int rows = imin(kBf16Rows, row_end - r0);
    for (int k0 = 0; k0 < w.cols; k0 += kBf16BlockK) {
      const int kn = imin(kBf16BlockK, w.cols - k0);
      pack_bf16_panel<Row>(w, r0, rows, k0, kn, panel);
      bf16_tiles<6>(panel, (kn + 1) / 2, x.x + k0, x.stride, x.m, y + r0, y_stride, rows, k0 > 0);
    }
  }
}

void matmul_bf16(const WeightMatrix& w, const Bf16Input& x, float* y, int y_stride, int row_begin,
                 int row_end) {
  if (w.format == WeightFormat::Int8) return matmul_bf16_rows<Int8Row>(w, x, y, y_stride, row_begin, row_end);
  if (w.format == WeightFormat::Int4) return matmul_bf16_rows<Int4Row>(w, x, y, y_stride, row_begin, row_end);
  switch (w.dtype) {
    case DType::BF16:
      return matmul_bf16_rows<DenseRow<DType::BF16>>(w, x, y, y_stride, row_begin, row_end);
    case DType::F16:
      return matmul_bf16_rows<DenseRow<DType::F16>>(w, x, y, y_stride, row_begin, row_end);
    case DType::F32:
      return matmul_bf16_rows<DenseRow<DType::F32>>(w, x, y, y_stride, row_begin, row_end);
    case DType::I8:
    case DType::I32:
      return;  // never dense weights (checkpoint.cpp)
  }
}

// Decode with bf16 weights: x split into two bf16 vectors, hi = bf16(x) and lo = bf16(x - hi), so that
// w . x = w . hi + w . lo to about 2^-16 of each product (fp32 activations, in effect), at two vdpbf16ps per
// 32 weights: three instructions per 64 weight bytes instead of six, so that more loads are in flight and a
// thread streams its rows faster.
constexpr int kSplitMaxCols = 1 << 16;

inline void split_x(const float* x, int cols, uint16_t* hi, uint16_t* lo) {
  for (int k = 0; k < cols; k += 16) {
    const __mmask16 mask = tail_mask(cols - k);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + k);
    const __m256bh h = _mm512_cvtneps_pbh(v);
    const __m512 back =
        _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(h)), 16));
    const __m256bh l = _mm512_cvtneps_pbh(_mm512_sub_ps(v, back));
    _mm256_mask_storeu_epi16(hi + k, mask, reinterpret_cast<__m256i>(h));
    _mm256_mask_storeu_epi16(lo + k, mask, reinterpret_cast<__m256i>(l));
  }
}

// One row at a time: 64 columns per step, four chains.
void gemv_split_rows1(const uint16_t* base, int cols, const uint16_t* hi, const uint16_t* lo, float* y,
                      int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const uint16_t* row = base + static_cast<std::size_t>(r) * cols;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int k = 0;
    for (; k + 64 <= cols; k += 64) {
      const __m512bh w0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(row + k));
      const __m512bh w1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(row + k + 32));
      a0 = _mm512_dpbf16_ps(a0, w0, reinterpret_cast<__m512bh>(_mm512_load_si512(hi + k)));
      a1 = _mm512_dpbf16_ps(a1, w0, reinterpret_cast<__m512bh>(_mm512_load_si512(lo + k)));
      a2 = _mm512_dpbf16_ps(a2, w1, reinterpret_cast<__m512bh>(_mm512_load_si512(hi + k + 32)));
      a3 = _mm512_dpbf16_ps(a3, w1, reinterpret_cast<__m512bh>(_mm512_load_si512(lo + k + 32)));
    }
    for (; k < cols; k += 32) {
      const int n = imin(32, cols - k);
      const __mmask32 mask = static_cast<__mmask32>(n >= 32 ? ~0u : (1u << n) - 1);
      const __m512bh wv = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(mask, row + k));
      a0 = _mm512_dpbf16_ps(a0, wv, reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(mask, hi + k)));
      a1 = _mm512_dpbf16_ps(a1, wv, reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(mask, lo + k)));
    }
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
}

// Eight rows at a time, each 32 columns of x loaded once for all eight. For long rows (FFN down: 8192
// columns), where hi and lo together (32 KiB) no longer stay in L1 beside the weight stream and one row at a
// time reloads them from L2 for every row: 22-26 GB/s on the 2-core Zen 4 machine against 33-35 eight at a
// time (engine_bench DecodeStream, docs/engine.md). Only whole 32-column blocks take this path.
constexpr int kGroupRows = 8;
constexpr int kLongRowCols = 4096;

void gemv_split_rows8(const uint16_t* base, int cols, const uint16_t* hi, const uint16_t* lo, float* y,
                      int row_begin, int row_end) {
  int r = row_begin;
  for (; r + kGroupRows <= row_end; r += kGroupRows) {
    const uint16_t* rows = base + static_cast<std::size_t>(r) * cols;
    __m512 acc_hi[kGroupRows], acc_lo[kGroupRows];
    for (int i = 0; i < kGroupRows; ++i) acc_hi[i] = acc_lo[i] = _mm512_setzero_ps();
    for (int k = 0; k < cols; k += 32) {
      const __m512bh h = reinterpret_cast<__m512bh>(_mm512_load_si512(hi + k));
      const __m512bh l = reinterpret_cast<__m512bh>(_mm512_load_si512(lo + k));
      for (int i = 0; i < kGroupRows; ++i) {
        const __m512bh w =
            reinterpret_cast<__m512bh>(_mm512_loadu_si512(rows + static_cast<std::size_t>(i) * cols + k));
        acc_hi[i] = _mm512_dpbf16_ps(acc_hi[i], w, h);
        acc_lo[i] = _mm512_dpbf16_ps(acc_lo[i], w, l);
      }
    }
    for (int i = 0; i < kGroupRows; ++i) y[r + i] = _mm512_reduce_add_ps(_mm512_add_ps(acc_hi[i], acc_lo[i]));
  }
  gemv_split_rows1(base, cols, hi, lo, y, r, row_end);
}

void gemv_bf16_split(const WeightMatrix& w, const float* x, float* y, int row_begin, int row_end) {
  alignas(64) static thread_local uint16_t hi[kSplitMaxCols], lo[kSplitMaxCols];
  const int cols = w.cols;
  split_x(x, cols, hi, lo);
  const auto* base = static_cast<const uint16_t*>(w.data);
  if (cols > kLongRowCols && cols % 32 == 0)
    return gemv_split_rows8(base, cols, hi, lo, y, row_begin, row_end);
  gemv_split_rows1(base, cols, hi, lo, y, row_begin, row_end);
}

// The fp32-activation product, with the split decode for one token and bf16 weights.
void matmul_split(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                  int row_begin, int row_end) {
  if (m == 1 && w.format == WeightFormat::Dense && w.dtype == DType::BF16 && w.cols <= kSplitMaxCols) {
    (void)x_stride;
    (void)y_stride;
    return gemv_bf16_split(w, x, y, row_begin, row_end);
  }
  matmul(w, x, m, x_stride, y, y_stride, row_begin, row_end);
}

// Peak vdpbf16ps throughput: 32 multiply-adds (64 FLOP) per instruction, twelve independent chains.
double fma_flops_bf16(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));  // 1.0
  const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3a83));  // ~0.001
  for (long it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return 2.0 * 32 * 12 * static_cast<double>(iterations);
}

const Kernels kAvx512Bf16{"avx512_bf16", &matmul_split, &quantize_input, &matmul_quantized, &matmul_bf16,
                          &dot,          &axpy,         &dot_i8,         &axpy_i8,          &scores,
                          &mix,          &scores_i8,    &mix_i8,         &fma_flops_bf16,   &read_bytes};

}  // namespace

const Kernels& avx512_bf16_kernel_table() {
  return kAvx512Bf16;
}

}  // namespace agentrt::engine::cpu
