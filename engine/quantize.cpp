#include "engine/quantize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/dtype.h"

namespace agentrt::engine {
namespace {

// inverse of kAwqOrder: the nibble that holds column 8c + j.
constexpr int kAwqNibble[8] = {0, 4, 1, 5, 2, 6, 3, 7};

}  // namespace

float quantize_int8_row(std::span<const float> w, std::span<int8_t> q) {
  float max_abs = 0.0f;
  for (const float v : w) max_abs = std::max(max_abs, std::fabs(v));
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const float r = std::nearbyint(w[i] / scale);
    q[i] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
  }
  return scale;
}

float quantize_int4_group(std::span<const float> w, std::span<uint8_t> q, uint8_t& zero) {
  float lo = w[0], hi = w[0];
  for (const float v : w) lo = std::min(lo, v), hi = std::max(hi, v);
  const float scale = f16_to_f32(f32_to_f16(std::max(hi - lo, 1e-5f) / 15.0f));
  const float z = std::clamp(-std::nearbyint(lo / scale), 0.0f, 15.0f);
  zero = static_cast<uint8_t>(z);
  for (std::size_t i = 0; i < w.size(); ++i) {
    q[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(w[i] / scale) + z, 0.0f, 15.0f));
  }
  return scale;
}

Int4Matrix quantize_int4(std::span<const float> w, int rows, int cols) {
  if (cols % kInt4Group != 0) throw std::invalid_argument("int4: in_features must be a multiple of 128");
  Int4Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.q.resize(static_cast<std::size_t>(rows) * cols);
  m.zeros.resize(static_cast<std::size_t>(rows) * m.groups());
  m.scales.resize(m.zeros.size());
  for (int r = 0; r < rows; ++r) {
    for (int g = 0; g < m.groups(); ++g) {
      const std::size_t at = static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(g) * kInt4Group;
      const std::size_t gi = static_cast<std::size_t>(r) * m.groups() + g;
      const float s =
          quantize_int4_group(w.subspan(at, kInt4Group), std::span(m.q).subspan(at, kInt4Group), m.zeros[gi]);
      m.scales[gi] = f32_to_f16(s);
    }
  }
  return m;
}

AwqTensors pack_awq(const Int4Matrix& m) {
  if (m.rows % 8 != 0) throw std::invalid_argument("AWQ packing: out_features must be a multiple of 8");
  const int packed = m.rows / 8, groups = m.groups();
  AwqTensors out;
  out.qweight.assign(static_cast<std::size_t>(m.cols) * packed, 0);
  out.qzeros.assign(static_cast<std::size_t>(groups) * packed, 0);
  out.scales.resize(static_cast<std::size_t>(groups) * m.rows);
  for (int k = 0; k < m.cols; ++k) {
    for (int c = 0; c < packed; ++c) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i) {
        const int row = 8 * c + kAwqOrder[i];
        word |= static_cast<uint32_t>(m.q[static_cast<std::size_t>(row) * m.cols + k] & 15) << (4 * i);
      }
      out.qweight[static_cast<std::size_t>(k) * packed + c] = static_cast<int32_t>(word);
    }
  }
  for (int g = 0; g < groups; ++g) {
    for (int c = 0; c < packed; ++c) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i) {
        const int row = 8 * c + kAwqOrder[i];
        word |= static_cast<uint32_t>(m.zeros[static_cast<std::size_t>(row) * groups + g] & 15) << (4 * i);
      }
      out.qzeros[static_cast<std::size_t>(g) * packed + c] = static_cast<int32_t>(word);
    }
    for (int row = 0; row < m.rows; ++row) {
      out.scales[static_cast<std::size_t>(g) * m.rows + row] =
          m.scales[static_cast<std::size_t>(row) * groups + g];
    }
  }
  return out;
}

void unpack_awq_rows(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales, int rows,
                     int cols, int c, uint8_t* q, uint8_t* zeros, uint16_t* row_scales) {
  const int packed = rows / 8, groups = cols / kInt4Group;
  for (int k = 0; k < cols; ++k) {
    const auto word = static_cast<uint32_t>(qweight[static_cast<std::size_t>(k) * packed + c]);
    for (int j = 0; j < 8; ++j)
      q[static_cast<std::size_t>(j) * cols + k] = (word >> (4 * kAwqNibble[j])) & 15;
  }
  for (int g = 0; g < groups; ++g) {
    const auto word = static_cast<uint32_t>(qzeros[static_cast<std::size_t>(g) * packed + c]);
    for (int j = 0; j < 8; ++j) {
      zeros[static_cast<std::size_t>(j) * groups + g] = (word >> (4 * kAwqNibble[j])) & 15;
      row_scales[static_cast<std::size_t>(j) * groups + g] =
          scales[static_cast<std::size_t>(g) * rows + 8 * c + j];
    }
  }
}

Int4Matrix unpack_awq(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales, int rows,
                      int cols) {
  Int4Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.q.resize(static_cast<std::size_t>(rows) * cols);
  m.zeros.resize(static_cast<std::size_t>(rows) * m.groups());
  m.scales.resize(m.zeros.size());
  for (int c = 0; c < rows / 8; ++c) {
    unpack_awq_rows(qweight, qzeros, scales, rows, cols, c,
                    m.q.data() + static_cast<std::size_t>(8 * c) * cols,
                    m.zeros.data() + static_cast<std::size_t>(8 * c) * m.groups(),
                    m.scales.data() + static_cast<std::size_t>(8 * c) * m.groups());
  }
  return m;
}

}  // namespace agentrt::engine
