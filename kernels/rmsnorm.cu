// The residual add fused with the following RMSNorm: one pass reads x (and delta), writes x and the normed
// row.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kPerThread = 8;  // row elements a thread keeps in registers: rows up to 8 * 1024 columns

// One block per row. A thread keeps its (up to kPerThread) elements and their norm weights in registers, so
// the row is read once; the weights are loaded before waiting for the kernel that writes the row (nothing
// writes weights). In a batch-1 decode this kernel runs on one SM between two products, so its latency is
// what counts.
__global__ void add_rmsnorm_kernel(float* __restrict__ x, const float* __restrict__ delta,
                                   const float* __restrict__ weight, bf16* __restrict__ out, int cols,
                                   float eps) {
  __shared__ float scratch[32];
  float w[kPerThread], v[kPerThread];
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) {
    const int i = threadIdx.x + j * blockDim.x;
    w[j] = i < cols ? weight[i] : 0.0f;
  }
  detail::await_producer();
  detail::release_dependents();
  const int64_t base = static_cast<int64_t>(blockIdx.x) * cols;
  float* row = x + base;
  const bool held = cols <= kPerThread * static_cast<int>(blockDim.x);
  float sum = 0.0f;
  if (held) {
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      v[j] = i < cols ? row[i] + (delta != nullptr ? delta[base + i] : 0.0f) : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      if (i < cols && delta != nullptr) row[i] = v[j];
      sum += v[j] * v[j];
    }
  } else {
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
      float value = row[i];
      if (delta != nullptr) {
        value += delta[base + i];
        row[i] = value;
      }
      sum += value * value;
    }
  }
  sum = detail::block_sum(sum, scratch);
  // The CPU computes 1 / sqrt(mean + eps) in fp64; so does this (one value per row).
  const float scale =
      static_cast<float>(1.0 / sqrt(static_cast<double>(sum) / cols + static_cast<double>(eps)));
  if (held) {
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      if (i < cols) out[base + i] = __float2bfloat16(w[j] * (v[j] * scale));
    }
  } else {
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
      out[base + i] = __float2bfloat16(weight[i] * (row[i] * scale));
  }
}

}  // namespace

cudaError_t add_rmsnorm(float* x, const float* delta, const float* weight, bf16* out, int rows, int cols,
                        float eps, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  const int threads = cols >= 1024 ? 1024 : (cols + 31) / 32 * 32;
  return detail::launch_chained(add_rmsnorm_kernel, rows, threads, stream, 0, x, delta, weight, out, cols,
                                eps);
}

}  // namespace agentrt::kernels
