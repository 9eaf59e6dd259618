// Batch-1 decode products: every weight byte is read once, so the kernel's only job is to stream the matrix
// at HBM speed: one warp per row, 16-byte loads, several loads in flight per lane before their first use.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

// 4 warps (rows) per block: the 4096-row products (wo, w2) then make 1,024 blocks, which spread over 132 SMs
// within 3% (512 blocks left a quarter of the SMs a block short: batch-1 decode 168 against 171 tokens/s, 7B,
// H100).
constexpr int kWarpsPerBlock = 4;
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

// Issues a lane's first kUnroll weight loads of one row; false when the row is too short for a full round.
__device__ __forceinline__ bool start_row(const uint4* wrow, int chunks, int lane, uint4 (&wv)[kUnroll]) {
  if (lane + 32 * (kUnroll - 1) >= chunks) return false;
#pragma unroll
  for (int u = 0; u < kUnroll; ++u)
    wv[u] = __ldcs(wrow + lane + 32 * u);  // streamed once: do not keep in L1/L2
  return true;
}

// The rest of a lane's part of one row's dot product, once start_row has issued the first loads (x through
// the read-only cache). Returns the whole warp's sum.
__device__ __forceinline__ float finish_row(const uint4* wrow, const uint4* x, int chunks, int lane,
                                            uint4 (&wv)[kUnroll], bool loaded) {
  const auto load_x = [&](int at) { return __ldg(x + at); };
  float sum = 0.0f;
  int c = lane;
  while (loaded) {
    uint4 xr[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) xr[u] = load_x(c + 32 * u);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) sum += dot8(wv[u], xr[u]);
    c += 32 * kUnroll;
    loaded = c + 32 * (kUnroll - 1) < chunks;
    if (loaded) {
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) wv[u] = __ldcs(wrow + c + 32 * u);
    }
  }
  for (; c < chunks; c += 32) sum += dot8(__ldcs(wrow + c), load_x(c));
  return detail::warp_sum(sum);
}

// cols % 8 == 0 and 16-byte aligned rows. The first weight loads go out before waiting for the kernel that
// writes x: no kernel writes weights.
template <typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_vec_kernel(const bf16* __restrict__ w, const bf16* __restrict__ x, Out* __restrict__ y, int rows,
                    int cols) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;
  const uint4* wrow = reinterpret_cast<const uint4*>(w + static_cast<int64_t>(row) * cols);
  const int chunks = cols / 8;
  uint4 wv[kUnroll];
  const bool loaded = start_row(wrow, chunks, lane, wv);
  detail::await_producer();
  detail::release_dependents();
  const float sum = finish_row(wrow, reinterpret_cast<const uint4*>(x), chunks, lane, wv, loaded);
  if (lane == 0) store(y, row, sum);
}

__device__ __forceinline__ bf16 swiglu_of(float gate_sum, float up_sum) {
  // As the SwiGLU kernel computes it from the product's bf16 outputs.
  const float gate = __bfloat162float(__float2bfloat16(gate_sum)),
              up = __bfloat162float(__float2bfloat16(up_sum));
  return __float2bfloat16(gate / (1.0f + expf(-gate)) * up);
}

// The w1/w3 product of a batch-1 decode with SwiGLU fused in: w13 is [w1; w3], [2 * ff, cols]; warp j takes
// gate row j and up row ff + j and writes out[j] = silu(gate) * up, so neither the [gate | up] row nor the
// SwiGLU kernel's launch is needed. Both rows' first loads are issued before the wait.
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_swiglu_vec_kernel(const bf16* __restrict__ w13, const bf16* __restrict__ x, bf16* __restrict__ out,
                           int ff, int cols) {
  const int lane = threadIdx.x & 31;
  const int j = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (j >= ff) return;
  const uint4* gate_row = reinterpret_cast<const uint4*>(w13 + static_cast<int64_t>(j) * cols);
  const uint4* up_row = reinterpret_cast<const uint4*>(w13 + (static_cast<int64_t>(ff) + j) * cols);
  const int chunks = cols / 8;
  uint4 gate_w[kUnroll], up_w[kUnroll];
  const bool gate_loaded = start_row(gate_row, chunks, lane, gate_w);
  const bool up_loaded = start_row(up_row, chunks, lane, up_w);
  detail::await_producer();
  detail::release_dependents();
  const auto* xv = reinterpret_cast<const uint4*>(x);
  const float gate = finish_row(gate_row, xv, chunks, lane, gate_w, gate_loaded);
  const float up = finish_row(up_row, xv, chunks, lane, up_w, up_loaded);
  if (lane == 0) out[j] = swiglu_of(gate, up);
}

// One row's dot product for rows that are not 16-byte aligned or whose length is not a multiple of 8: lane by
// lane in bf16 elements. Returns the whole warp's sum.
__device__ __forceinline__ float scalar_row_dot(const bf16* wrow, const bf16* x, int cols, int lane) {
  float sum = 0.0f;
  for (int c = lane; c < cols; c += 32) sum = fmaf(__bfloat162float(wrow[c]), __bfloat162float(x[c]), sum);
  return detail::warp_sum(sum);
}

__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_swiglu_scalar_kernel(const bf16* __restrict__ w13, const bf16* __restrict__ x,
                              bf16* __restrict__ out, int ff, int cols) {
  const int lane = threadIdx.x & 31;
  const int j = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (j >= ff) return;
  detail::await_producer();
  detail::release_dependents();
  const float gate = scalar_row_dot(w13 + static_cast<int64_t>(j) * cols, x, cols, lane);
  const float up = scalar_row_dot(w13 + (static_cast<int64_t>(ff) + j) * cols, x, cols, lane);
  if (lane == 0) out[j] = swiglu_of(gate, up);
}

template <typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_scalar_kernel(const bf16* __restrict__ w, const bf16* __restrict__ x, Out* __restrict__ y, int rows,
                       int cols) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;
  detail::await_producer();
  detail::release_dependents();
  const float sum = scalar_row_dot(w + static_cast<int64_t>(row) * cols, x, cols, lane);
  if (lane == 0) store(y, row, sum);
}

bool vectorizable(const void* w, const void* x, int cols) {
  return cols % 8 == 0 && reinterpret_cast<uintptr_t>(w) % 16 == 0 &&
         reinterpret_cast<uintptr_t>(x) % 16 == 0;
}

template <typename Out>
cudaError_t launch(const bf16* w, const bf16* x, Out* y, int rows, int cols, cudaStream_t stream) {
  const unsigned blocks = detail::blocks_for(rows, kWarpsPerBlock);
  if (vectorizable(w, x, cols)) {
    return detail::launch_chained(gemv_vec_kernel<Out>, blocks, kWarpsPerBlock * 32, stream, 0, w, x, y, rows,
                                  cols);
  }
  return detail::launch_chained(gemv_scalar_kernel<Out>, blocks, kWarpsPerBlock * 32, stream, 0, w, x, y,
                                rows, cols);
}

}  // namespace

cudaError_t gemv_swiglu_bf16(const bf16* w13, const bf16* x, bf16* out, int ff, int cols,
                             cudaStream_t stream) {
  if (ff == 0) return cudaSuccess;
  const unsigned blocks = detail::blocks_for(ff, kWarpsPerBlock);
  if (vectorizable(w13, x, cols))
    return detail::launch_chained(gemv_swiglu_vec_kernel, blocks, kWarpsPerBlock * 32, stream, 0, w13, x, out,
                                  ff, cols);
  return detail::launch_chained(gemv_swiglu_scalar_kernel, blocks, kWarpsPerBlock * 32, stream, 0, w13, x,
                                out, ff, cols);
}

cudaError_t gemv_bf16(const bf16* w, const bf16* x, void* y, OutType out, int rows, int cols,
                      cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (out == OutType::F32) return launch(w, x, static_cast<float*>(y), rows, cols, stream);
  return launch(w, x, static_cast<bf16*>(y), rows, cols, stream);
}

}  // namespace agentrt::kernels
