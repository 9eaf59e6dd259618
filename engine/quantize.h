// Weight quantization, independent of any backend: round-to-nearest int8 (one scale per output channel) and
// int4 (groups of 128 inputs, a scale and a zero point each, as AutoAWQ computes them), and the AutoAWQ
// "GEMM" packing of int4 checkpoints (spec "4-bit AWQ checkpoints"): qweight int32 [in, out/8], qzeros int32
// [in/group, out/8], scales fp16 [in/group, out]; eight 4-bit values per int32, lowest nibble first, in the
// column order 0, 2, 4, 6, 1, 3, 5, 7.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace agentrt::engine {

inline constexpr int kInt4Group = 128;
// Nibble i of a packed int32 holds column 8c + kAwqOrder[i].
inline constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

// Symmetric int8 of one row: scale = max|w| / 127 (1 when the row is zero), q = round(w / scale) in
// [-127, 127]. Returns the scale.
float quantize_int8_row(std::span<const float> w, std::span<int8_t> q);

// Asymmetric int4 of one group (AutoAWQ's w_bit 4, zero_point): scale = max(max - min, 1e-5) / 15 rounded to
// fp16, zero = clamp(-round(min / scale), 0, 15), q = clamp(round(w / scale) + zero, 0, 15); w ~ (q - zero) *
// scale. Returns the scale (an fp16 value, as a float) and sets `zero`.
float quantize_int4_group(std::span<const float> w, std::span<uint8_t> q, uint8_t& zero);

// An int4 matrix in plain form: q and zero in [0, 15], scales as stored (fp16 values).
struct Int4Matrix {
  int rows = 0;                  // out_features
  int cols = 0;                  // in_features, a multiple of kInt4Group
  std::vector<uint8_t> q;        // [rows, cols]
  std::vector<uint8_t> zeros;    // [rows, cols / group]
  std::vector<uint16_t> scales;  // fp16 [rows, cols / group]
  int groups() const { return cols / kInt4Group; }
};

// Quantizes a row-major [rows, cols] fp32 matrix (cols a multiple of kInt4Group).
Int4Matrix quantize_int4(std::span<const float> w, int rows, int cols);

// AutoAWQ GEMM layout, both ways. The packed tensors are row-major: qweight [cols, rows / 8], qzeros
// [cols / group, rows / 8], scales [cols / group, rows] (rows = out_features must be a multiple of 8).
struct AwqTensors {
  std::vector<int32_t> qweight;
  std::vector<int32_t> qzeros;
  std::vector<uint16_t> scales;
};
AwqTensors pack_awq(const Int4Matrix& m);
// Eight output rows 8c .. 8c+7 of a packed AWQ matrix back in plain form: q [8, cols], zeros and fp16 scales
// [8, cols / group]. qweight/qzeros/scales are the raw tensors (int32 and fp16, as mapped from the file).
void unpack_awq_rows(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales, int rows,
                     int cols, int c, uint8_t* q, uint8_t* zeros, uint16_t* row_scales);
// The whole matrix (tests and tools).
Int4Matrix unpack_awq(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales, int rows,
                      int cols);

}  // namespace agentrt::engine
