// The portable kernels: plain C++ the compiler may vectorise for any target. They are the reference of the
// fast variants, so they compute the same quantities in the same way (the integer product sums the same
// int32 dot products; only the order of the fp32 sums differs).
#include <cmath>
#include <cstring>

#include "engine/cpu/kernel_tables.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/kernels_attention.h"

namespace agentrt::engine::cpu {
namespace {

template <DType D>
inline float load_one(const void* base, std::size_t index) {
  if constexpr (D == DType::BF16) {
    return bf16_to_f32(static_cast<const uint16_t*>(base)[index]);
  } else if constexpr (D == DType::F16) {
    return f16_to_f32(static_cast<const uint16_t*>(base)[index]);
  } else {
    return static_cast<const float*>(base)[index];
  }
}

template <DType D>
void matmul_dense(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                  int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const std::size_t row = static_cast<std::size_t>(r) * w.cols;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<std::size_t>(t) * x_stride;
      float sum = 0.0f;
      for (int k = 0; k < w.cols; ++k) sum += load_one<D>(w.data, row + k) * xt[k];
      y[static_cast<std::size_t>(t) * y_stride + r] = sum;
    }
  }
}

// Quantized weights: each row dequantized to fp32 (the "dequantize, then multiply" reference).
void matmul_dequantized(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                        int row_begin, int row_end) {
  std::vector<float> row(static_cast<std::size_t>(w.cols));
  for (int r = row_begin; r < row_end; ++r) {
    convert_row(w, r, row.data());
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<std::size_t>(t) * x_stride;
      float sum = 0.0f;
      for (int k = 0; k < w.cols; ++k) sum += row[k] * xt[k];
      y[static_cast<std::size_t>(t) * y_stride + r] = sum;
    }
  }
}

void matmul(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride, int row_begin,
            int row_end) {
  if (w.format != WeightFormat::Dense)
    return matmul_dequantized(w, x, m, x_stride, y, y_stride, row_begin, row_end);
  switch (w.dtype) {
    case DType::BF16:
      return matmul_dense<DType::BF16>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F16:
      return matmul_dense<DType::F16>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F32:
      return matmul_dense<DType::F32>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::I8:
    case DType::I32:
      return;  // never dense weights (checkpoint.cpp)
  }
}

// Symmetric int8 per group: scale = max|x| / 127, q = round-to-nearest-even(x * (127 / max|x|)). The fast
// variants compute the same expressions, so their q are identical.
void quantize_input(const float* x, int m, int x_stride, int cols, int8_t* q, float* scale, float* sum) {
  const int groups = (cols + kQuantGroup - 1) / kQuantGroup;
  const int stride = groups * kQuantGroup;
  for (int t = 0; t < m; ++t) {
    const float* xt = x + static_cast<std::size_t>(t) * x_stride;
    int8_t* qt = q + static_cast<std::size_t>(t) * stride;
    for (int g = 0; g < groups; ++g) {
      const int begin = g * kQuantGroup, end = std::min(cols, begin + kQuantGroup);
      float max_abs = 0.0f;
      for (int k = begin; k < end; ++k) max_abs = std::max(max_abs, std::fabs(xt[k]));
      const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
      int total = 0;
      for (int k = begin; k < end; ++k) {
        const int v = static_cast<int>(std::nearbyint(xt[k] * inv));
        qt[k] = static_cast<int8_t>(v);
        total += v;
      }
      for (int k = end; k < begin + kQuantGroup; ++k) qt[k] = 0;
      const float s = max_abs / 127.0f;
      scale[static_cast<std::size_t>(t) * groups + g] = s;
      sum[static_cast<std::size_t>(t) * groups + g] = s * static_cast<float>(total);
    }
  }
}

// The integer product: int32 dot products per group, then the scales (see kernels.h for the layouts).
//   Int8: y = s_r * sum_g (sx_g * dot_g(byte, qx) - 128 * sum_g)        (byte = q + 128)
//   Int4: y = sum_g (s_rg * sx_g * dot_g(q, qx) - zs_rg * sum_g)
void matmul_quantized(const WeightMatrix& w, const QuantizedInput& x, float* y, int y_stride, int row_begin,
                      int row_end) {
  const auto* data = static_cast<const uint8_t*>(w.data);
  const int groups = x.groups;
  for (int r = row_begin; r < row_end; ++r) {
    for (int t = 0; t < x.m; ++t) {
      const int8_t* qx = x.q + static_cast<std::size_t>(t) * x.stride;
      const float* sx = x.scale + static_cast<std::size_t>(t) * groups;
      const float* sumx = x.sum + static_cast<std::size_t>(t) * groups;
      float acc = 0.0f;
      if (w.format == WeightFormat::Int8) {
        const uint8_t* row = data + static_cast<std::size_t>(r) * w.row_stride;
        float offset = 0.0f;
        for (int g = 0; g < groups; ++g) {
          int32_t dot = 0;
          for (int k = g * kQuantGroup; k < (g + 1) * kQuantGroup; ++k) dot += row[k] * qx[k];
          acc += sx[g] * static_cast<float>(dot);
          offset += sumx[g];
        }
        acc = w.scales[r] * (acc - 128.0f * offset);
      } else {
        const uint8_t* row = data + static_cast<std::size_t>(r) * groups * (kQuantGroup / 2);
        const uint16_t* s16 = w.group_scales + static_cast<std::size_t>(r) * groups;
        const uint8_t* z = w.group_zeros + static_cast<std::size_t>(r) * groups;
        float zero = 0.0f;
        for (int g = 0; g < groups; ++g) {
          const uint8_t* bytes = row + g * (kQuantGroup / 2);
          const int8_t* xg = qx + g * kQuantGroup;
          int32_t dot = 0;
          for (int j = 0; j < kQuantGroup / 2; ++j) {
            dot += (bytes[j] & 15) * xg[j] + (bytes[j] >> 4) * xg[j + kQuantGroup / 2];
          }
          const float s = f16_to_f32(s16[g]);
          acc += s * sx[g] * static_cast<float>(dot);
          zero += static_cast<float>(z[g]) * s * sumx[g];
        }
        acc -= zero;
      }
      y[static_cast<std::size_t>(t) * y_stride + r] = acc;
    }
  }
}

float dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

float dot_i8(const float* a, const int8_t* b, int n) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += a[i] * static_cast<float>(b[i]);
  return sum;
}

void axpy_i8(float a, const int8_t* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * static_cast<float>(x[i]);
}

// Peak scalar multiply-add throughput (what the portable kernels can reach at best).
double fma_flops(long iterations) {
  float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (long it = 0; it < iterations; ++it) {
    for (float& a : acc) a = a * 0.999f + 0.001f;
  }
  volatile float sink = acc[0] + acc[7];
  (void)sink;
  return 2.0 * 8 * static_cast<double>(iterations);
}

uint64_t read_bytes(const void* data, std::size_t bytes) {
  const auto* words = static_cast<const uint64_t*>(data);
  const std::size_t n = bytes / sizeof(uint64_t);
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (std::size_t i = 0; i + 4 <= n; i += 4) {
    a += words[i];
    b += words[i + 1];
    c += words[i + 2];
    d += words[i + 3];
  }
  return a + b + c + d;
}

const Kernels kPortable{"portable",
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

const Kernels& portable_kernel_table() {
  return kPortable;
}

std::size_t WeightMatrix::bytes() const {
  const std::size_t r = static_cast<std::size_t>(rows);
  switch (format) {
    case WeightFormat::Dense:
      return r * cols * dtype_size(dtype);
    case WeightFormat::Int8:
      return r * row_stride + r * sizeof(float);
    case WeightFormat::Int4:
      return r * groups() * (kQuantGroup / 2 + sizeof(uint16_t) + sizeof(uint8_t));
  }
  return 0;
}

void convert_row(const WeightMatrix& w, int row, float* out) {
  if (w.format == WeightFormat::Int8) {
    const auto* bytes = static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(row) * w.row_stride;
    for (int k = 0; k < w.cols; ++k)
      out[k] = static_cast<float>(static_cast<int>(bytes[k]) - 128) * w.scales[row];
    return;
  }
  if (w.format == WeightFormat::Int4) {
    const int groups = w.groups();
    const auto* bytes =
        static_cast<const uint8_t*>(w.data) + static_cast<std::size_t>(row) * groups * (kQuantGroup / 2);
    for (int g = 0; g < groups; ++g) {
      const float s = f16_to_f32(w.group_scales[static_cast<std::size_t>(row) * groups + g]);
      const float zs = static_cast<float>(w.group_zeros[static_cast<std::size_t>(row) * groups + g]) * s;
      for (int j = 0; j < kQuantGroup / 2; ++j) {
        const uint8_t b = bytes[g * (kQuantGroup / 2) + j];
        out[g * kQuantGroup + j] = static_cast<float>(b & 15) * s - zs;
        out[g * kQuantGroup + kQuantGroup / 2 + j] = static_cast<float>(b >> 4) * s - zs;
      }
    }
    return;
  }
  const std::size_t base = static_cast<std::size_t>(row) * w.cols;
  for (int k = 0; k < w.cols; ++k) {
    switch (w.dtype) {
      case DType::BF16:
        out[k] = load_one<DType::BF16>(w.data, base + k);
        break;
      case DType::F16:
        out[k] = load_one<DType::F16>(w.data, base + k);
        break;
      case DType::F32:
        out[k] = load_one<DType::F32>(w.data, base + k);
        break;
      case DType::I8:
      case DType::I32:
        out[k] = 0.0f;  // never dense weights (checkpoint.cpp)
        break;
    }
  }
}

const QuantizedInput& QuantizedInputBuffer::quantize(const Kernels& kernels, const float* x, int m,
                                                     int x_stride, int cols) {
  const int groups = (cols + kQuantGroup - 1) / kQuantGroup;
  const std::size_t stride = static_cast<std::size_t>(groups) * kQuantGroup;
  if (q_.size() < m * stride) q_.resize(m * stride);
  if (scale_.size() < static_cast<std::size_t>(m) * groups) {
    scale_.resize(static_cast<std::size_t>(m) * groups);
    sum_.resize(static_cast<std::size_t>(m) * groups);
  }
  kernels.quantize_input(x, m, x_stride, cols, q_.data(), scale_.data(), sum_.data());
  view_ = QuantizedInput{q_.data(), scale_.data(), sum_.data(), m, cols, groups, static_cast<int>(stride)};
  return view_;
}

const Bf16Input& Bf16InputBuffer::convert(const float* x, int m, int x_stride, int cols) {
  const int stride = (cols + 1) / 2 * 2;
  if (x_.size() < static_cast<std::size_t>(m) * stride) x_.resize(static_cast<std::size_t>(m) * stride);
  for (int t = 0; t < m; ++t) {
    const float* xt = x + static_cast<std::size_t>(t) * x_stride;
    uint16_t* out = x_.data() + static_cast<std::size_t>(t) * stride;
    for (int k = 0; k < cols; ++k) out[k] = f32_to_bf16(xt[k]);
    if (stride != cols) out[cols] = 0;
  }
  view_ = Bf16Input{x_.data(), m, cols, stride};
  return view_;
}

}  // namespace agentrt::engine::cpu
