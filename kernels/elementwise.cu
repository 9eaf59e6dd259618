// Embedding gather, SwiGLU and the random fills of benchmark weights.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

// One block per row; threads stride over the hidden size.
__global__ void embedding_gather_kernel(const bf16* __restrict__ table, const int32_t* __restrict__ ids,
                                        float* __restrict__ out, int hidden) {
  detail::await_producer();
  detail::release_dependents();
  const int64_t row = blockIdx.x;
  const bf16* src = table + static_cast<int64_t>(ids[row]) * hidden;
  float* dst = out + row * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = __bfloat162float(src[i]);
}

__global__ void swiglu_kernel(const bf16* __restrict__ gate_up, bf16* __restrict__ out, int rows, int ff) {
  detail::await_producer();
  detail::release_dependents();
  const int64_t n = static_cast<int64_t>(rows) * ff;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / ff, col = i % ff;
    const float gate = __bfloat162float(gate_up[row * 2 * ff + col]);
    const float up = __bfloat162float(gate_up[row * 2 * ff + ff + col]);
    out[i] = __float2bfloat16(gate / (1.0f + expf(-gate)) * up);
  }
}

// SplitMix64 of (seed, index): independent of launch shape.
__device__ __forceinline__ float uniform01(uint64_t seed, uint64_t index) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

__global__ void fill_random_bf16_kernel(bf16* data, int64_t n, float scale, uint64_t seed) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    data[i] = __float2bfloat16((uniform01(seed, i) * 2.0f - 1.0f) * scale);
  }
}

__global__ void fill_random_f32_kernel(float* data, int64_t n, float lo, float hi, uint64_t seed) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    data[i] = lo + uniform01(seed, i) * (hi - lo);
  }
}

// Grid-stride launches: enough blocks to fill any current GPU, capped so huge buffers do not need 2^31
// blocks.
unsigned stride_blocks(int64_t n) {
  const int64_t blocks = (n + 255) / 256;
  return static_cast<unsigned>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

}  // namespace

cudaError_t embedding_gather(const bf16* table, const int32_t* ids, float* out, int rows, int hidden,
                             cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  return detail::launch_chained(embedding_gather_kernel, rows, 256, stream, 0, table, ids, out, hidden);
}

cudaError_t swiglu(const bf16* gate_up, bf16* out, int rows, int ff, cudaStream_t stream) {
  const int64_t n = static_cast<int64_t>(rows) * ff;
  if (n == 0) return cudaSuccess;
  return detail::launch_chained(swiglu_kernel, stride_blocks(n), 256, stream, 0, gate_up, out, rows, ff);
}

cudaError_t fill_random_bf16(bf16* data, int64_t n, float scale, uint64_t seed, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  fill_random_bf16_kernel<<<stride_blocks(n), 256, 0, stream>>>(data, n, scale, seed);
  return cudaGetLastError();
}

cudaError_t fill_random_f32(float* data, int64_t n, float lo, float hi, uint64_t seed, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  fill_random_f32_kernel<<<stride_blocks(n), 256, 0, stream>>>(data, n, lo, hi, seed);
  return cudaGetLastError();
}

}  // namespace agentrt::kernels
