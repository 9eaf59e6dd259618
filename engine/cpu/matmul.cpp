#include "engine/cpu/matmul.h"

#include <algorithm>

namespace agentrt::engine::cpu {
namespace {

// Splits rows into chunks (a multiple of `align`), a few per thread so that uneven progress evens out.
template <class Fn>
void for_row_chunks(ThreadPool& pool, int rows, int align, const Fn& fn) {
  const int per = rows / (pool.size() * 4);
  const int chunk = std::max(align, (per + align - 1) / align * align);
  const int tasks = (rows + chunk - 1) / chunk;
  pool.run(tasks, [&](int task, int) {
    const int begin = task * chunk;
    fn(begin, std::min(rows, begin + chunk));
  });
}

}  // namespace

void MatmulRunner::run(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride) {
  const Kernels& k = *kernels_;
  const bool quantized = w.format != WeightFormat::Dense;
  if (quantized && m <= kIntegerMaxTokens) {
    const QuantizedInput& in = quantized_.quantize(k, x, m, x_stride, w.cols);
    for_row_chunks(*pool_, w.rows, 16,
                   [&](int begin, int end) { k.matmul_quantized(w, in, y, y_stride, begin, end); });
    return;
  }
  const bool bf16_allowed = prefill_ != PrefillActivations::F32;  // Auto is Bf16 (matmul.h)
  if (bf16_allowed && k.matmul_bf16 != nullptr && m >= kBf16MinTokens &&
      (quantized || w.dtype == DType::BF16)) {
    const Bf16Input& in = bf16_.convert(x, m, x_stride, w.cols);
    for_row_chunks(*pool_, w.rows, 64,
                   [&](int begin, int end) { k.matmul_bf16(w, in, y, y_stride, begin, end); });
    return;
  }
  for_row_chunks(*pool_, w.rows, 16,
                 [&](int begin, int end) { k.matmul(w, x, m, x_stride, y, y_stride, begin, end); });
}

}  // namespace agentrt::engine::cpu
