// Batch-1 decode products: every weight byte is read once, so the kernel's only job is to stream the matrix at
// HBM speed: one warp per row, 16-byte loads, several loads in flight per lane before their first use.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kUnroll = 4;  // 16-byte loads in flight per lane

template <typename Out>
__device__ __forceinline__ void store(Out* y, int row, float v) {
  if constexpr (sizeof(Out) == 4) {
    y[row] = v;
  } else {
    y[row] = __float2bfloat16(v);
  }
}

__device__ __forceinline__ float dot8(const uint4& w, const uint4& x) {
  const auto* wp = reinterpret_cast<const __nv_bfloat162*>(&w);
  const auto* xp = reinterpret_cast<const __nv_bfloat162*>(&x);
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 a = __bfloat1622float2(wp[i]), b = __bfloat1622float2(xp[i]);
    sum = fmaf(a.x, b.x, sum);
    sum = fmaf(a.y, b.y, sum);
  }
  return sum;
}

// cols % 8 == 0 and 16-byte aligned rows.
template <typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_vec_kernel(const bf16* __restrict__ w, const bf16* __restrict__ x, Out* __restrict__ y, int rows, int cols) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;
  const uint4* wrow = reinterpret_cast<const uint4*>(w + static_cast<int64_t>(row) * cols);
  const uint4* xv = reinterpret_cast<const uint4*>(x);
  const int chunks = cols / 8;
  float sum = 0.0f;
  int c = lane;
  for (; c + 32 * (kUnroll - 1) < chunks; c += 32 * kUnroll) {
    uint4 wv[kUnroll], xr[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) wv[u] = __ldcs(wrow + c + 32 * u);  // streamed once: do not keep in L1/L2
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) xr[u] = __ldg(xv + c + 32 * u);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) sum += dot8(wv[u], xr[u]);
  }
  for (; c < chunks; c += 32) sum += dot8(__ldcs(wrow + c), __ldg(xv + c));
  sum = detail::warp_sum(sum);
  if (lane == 0) store(y, row, sum);
}

template <typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_scalar_kernel(const bf16* __restrict__ w, const bf16* __restrict__ x, Out* __restrict__ y, int rows,
                       int cols) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;
  const bf16* wrow = w + static_cast<int64_t>(row) * cols;
  float sum = 0.0f;
  for (int c = lane; c < cols; c += 32) sum = fmaf(__bfloat162float(wrow[c]), __bfloat162float(x[c]), sum);
  sum = detail::warp_sum(sum);
  if (lane == 0) store(y, row, sum);
}

template <typename Out>
cudaError_t launch(const bf16* w, const bf16* x, Out* y, int rows, int cols, cudaStream_t stream) {
  const unsigned blocks = detail::blocks_for(rows, kWarpsPerBlock);
  const bool aligned = cols % 8 == 0 && reinterpret_cast<uintptr_t>(w) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(x) % 16 == 0;
  if (aligned) {
    gemv_vec_kernel<Out><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(w, x, y, rows, cols);
  } else {
    gemv_scalar_kernel<Out><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(w, x, y, rows, cols);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t gemv_bf16(const bf16* w, const bf16* x, void* y, OutType out, int rows, int cols, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (out == OutType::F32) return launch(w, x, static_cast<float*>(y), rows, cols, stream);
  return launch(w, x, static_cast<bf16*>(y), rows, cols, stream);
}

}  // namespace agentrt::kernels
