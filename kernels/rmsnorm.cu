// The residual add fused with the following RMSNorm: one pass reads x (and delta), writes x and the normed row.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

// One block per row. The row is read twice (sum of squares, then scale); the second read hits L1/L2.
__global__ void add_rmsnorm_kernel(float* __restrict__ x, const float* __restrict__ delta,
                                   const float* __restrict__ weight, bf16* __restrict__ out, int cols, float eps) {
  __shared__ float scratch[32];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * cols;
  float* row = x + base;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (delta != nullptr) {
      v += delta[base + i];
      row[i] = v;
    }
    sum += v * v;
  }
  sum = detail::block_sum(sum, scratch);
  // The CPU computes 1 / sqrt(mean + eps) in fp64; so does this (one value per row).
  const float scale = static_cast<float>(1.0 / sqrt(static_cast<double>(sum) / cols + static_cast<double>(eps)));
  for (int i = threadIdx.x; i < cols; i += blockDim.x) out[base + i] = __float2bfloat16(weight[i] * (row[i] * scale));
}

}  // namespace

cudaError_t add_rmsnorm(float* x, const float* delta, const float* weight, bf16* out, int rows, int cols, float eps,
                        cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const int threads = cols >= 1024 ? 1024 : (cols + 31) / 32 * 32;
  add_rmsnorm_kernel<<<rows, threads, 0, stream>>>(x, delta, weight, out, cols, eps);
  return cudaGetLastError();
}

}  // namespace agentrt::kernels
