// Quantized products of any batch: the GEMV kernels up to kMaxQuantGemvBatch rows, dequantization to bf16 and
// cuBLASLt above (prefill is compute bound: the dequantized tile costs one pass over the weights).
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace

void quantized_matmul(Gemm& gemm, const Int8Weights& w, const bf16* x, int m, void* y, OutType out,
                      bf16* scratch, cudaStream_t stream) {
  if (m <= kMaxQuantGemvBatch) return check(gemv_int8(w, x, m, y, out, stream), "int8 GEMV");
  check(dequantize_int8(w, scratch, stream), "int8 dequantization");
  gemm.run(x, scratch, y, out, m, w.rows, w.cols, stream);
}

void quantized_matmul(Gemm& gemm, const Int4Weights& w, const bf16* x, int m, void* y, OutType out,
                      bf16* scratch, cudaStream_t stream) {
  if (m <= kMaxQuantGemvBatch) return check(gemv_int4(w, x, m, y, out, stream), "int4 GEMV");
  check(dequantize_int4(w, scratch, stream), "int4 dequantization");
  gemm.run(x, scratch, y, out, m, w.rows, w.cols, stream);
}

}  // namespace agentrt::kernels
