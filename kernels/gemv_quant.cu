// W8A16 and W4A16 products: int8 / int4 weights unpacked in registers and multiplied by bf16 activations in
// fp32, for decode batches of 1 to kMaxQuantGemvBatch (one warp per weight row, 16-byte weight loads, every
// batch row of x against the same unpacked weights), and dequantization to bf16 for the cuBLASLt product of
// larger batches (quantized_matmul in gemm_quant.cpp).
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kWarpsPerBlock = 4;

template <typename Out>
__device__ __forceinline__ void store(Out* y, int64_t at, float v) {
  if constexpr (sizeof(Out) == 4) {
    y[at] = v;
  } else {
    y[at] = __float2bfloat16(v);
  }
}

// Each lane takes eight consecutive inputs (an "octet") per step, lanes side by side, so that one 16-byte
// load per batch row of x serves the whole octet and a warp's load of x is 512 contiguous bytes (lanes
// reading 2-byte pairs 32 or 64 bytes apart made every load instruction touch 8-16 cache lines: the products
// ran at a third of the copy bound and eight batch rows took six times as long as one, H200). kOctetsInFlight
// octets per lane are loaded before any is used.
constexpr int kOctetsInFlight = 4;

// acc[b] += sum_i w[i] * x[b, k0 + i] for i < 8 (x read through the read-only cache: every warp of the
// product reads the same activations).
template <int B>
__device__ __forceinline__ void accumulate_octet(const float (&w)[8], const bf16* __restrict__ x, int cols,
                                                 int k0, float (&acc)[B]) {
#pragma unroll
  for (int b = 0; b < B; ++b) {
    const uint4 packed = __ldg(reinterpret_cast<const uint4*>(x + static_cast<int64_t>(b) * cols + k0));
    const auto* pairs = reinterpret_cast<const __nv_bfloat162*>(&packed);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 xv = __bfloat1622float2(pairs[j]);
      acc[b] = fmaf(w[2 * j], xv.x, acc[b]);
      acc[b] = fmaf(w[2 * j + 1], xv.y, acc[b]);
    }
  }
}

// An integer in [0, 2^23) as a float without a conversion instruction (those run at a quarter of the FMA
// rate): 2^23 + q has q in its mantissa, minus 2^23 exactly.
__device__ __forceinline__ float small_uint_to_float(uint32_t q) {
  return __int_as_float(0x4B000000u | q) - 8388608.0f;
}

template <int B, typename Out>
__device__ __forceinline__ void finish(float (&acc)[B], Out* __restrict__ y, int row, int rows, int lane) {
#pragma unroll
  for (int b = 0; b < B; ++b) acc[b] = detail::warp_sum(acc[b]);
  if (lane == 0) {
#pragma unroll
    for (int b = 0; b < B; ++b) store(y, static_cast<int64_t>(b) * rows + row, acc[b]);
  }
}

// W8A16, cols % 16 == 0: an octet of int8 weights is one 8-byte load.
template <int B, typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_int8_kernel(Int8Weights w, const bf16* __restrict__ x, Out* __restrict__ y) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= w.rows) return;
  const auto* wrow = reinterpret_cast<const uint2*>(w.q + static_cast<int64_t>(row) * w.cols);
  const int octets = w.cols / 8;
  detail::await_producer();
  detail::release_dependents();
  float acc[B] = {};
  for (int base = 0; base < octets; base += 32 * kOctetsInFlight) {
    uint2 packed[kOctetsInFlight];
#pragma unroll
    for (int u = 0; u < kOctetsInFlight; ++u) {
      const int o = base + 32 * u + lane;
      packed[u] = o < octets ? __ldcs(wrow + o) : make_uint2(0, 0);  // streamed once
    }
#pragma unroll
    for (int u = 0; u < kOctetsInFlight; ++u) {
      const int o = base + 32 * u + lane;
      if (o >= octets) break;
      const uint32_t words[2] = {packed[u].x, packed[u].y};
      float v[8];
#pragma unroll
      for (int j = 0; j < 2; ++j) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          // q + 128 in [0, 255] by flipping the sign bit, then 128 taken off exactly.
          v[4 * j + i] = small_uint_to_float(((words[j] >> (8 * i)) & 0xFFu) ^ 0x80u) - 128.0f;
        }
      }
      accumulate_octet<B>(v, x, w.cols, 8 * o, acc);
    }
  }
  const float scale = w.scales[row];
#pragma unroll
  for (int b = 0; b < B; ++b) acc[b] *= scale;
  finish<B>(acc, y, row, w.rows, lane);
}

// W4A16, cols % 128 == 0: an octet of int4 weights is one word; 16 words share a group's scale and zero.
template <int B, typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_int4_kernel(Int4Weights w, const bf16* __restrict__ x, Out* __restrict__ y) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= w.rows) return;
  const int groups = w.cols / 128;
  const int octets = w.cols / 8;
  const uint32_t* wrow = w.q + static_cast<int64_t>(row) * octets;
  const float* scales = w.scales + static_cast<int64_t>(row) * groups;
  const float* zero_scales = w.zero_scales + static_cast<int64_t>(row) * groups;
  detail::await_producer();
  detail::release_dependents();
  float acc[B] = {};
  for (int base = 0; base < octets; base += 32 * kOctetsInFlight) {
    uint32_t packed[kOctetsInFlight];
#pragma unroll
    for (int u = 0; u < kOctetsInFlight; ++u) {
      const int o = base + 32 * u + lane;
      packed[u] = o < octets ? __ldcs(wrow + o) : 0u;
    }
#pragma unroll
    for (int u = 0; u < kOctetsInFlight; ++u) {
      const int o = base + 32 * u + lane;
      if (o >= octets) break;
      const float s = __ldg(scales + o / 16), zs = __ldg(zero_scales + o / 16);
      float v[8];
#pragma unroll
      for (int i = 0; i < 8; ++i) v[i] = fmaf(small_uint_to_float((packed[u] >> (4 * i)) & 15u), s, -zs);
      accumulate_octet<B>(v, x, w.cols, 8 * o, acc);
    }
  }
  finish<B>(acc, y, row, w.rows, lane);
}

template <template <int, typename> class Kernel, typename Weights, typename Out>
cudaError_t launch_batch(const Weights& w, const bf16* x, int batch, Out* y, cudaStream_t stream) {
  const unsigned blocks = detail::blocks_for(w.rows, kWarpsPerBlock);
  const auto go = [&](auto kernel) {
    return detail::launch_chained(kernel, blocks, kWarpsPerBlock * 32, stream, 0, w, x, y);
  };
  switch (batch) {
    case 1:
      return go(Kernel<1, Out>::fn);
    case 2:
      return go(Kernel<2, Out>::fn);
    case 3:
      return go(Kernel<3, Out>::fn);
    case 4:
      return go(Kernel<4, Out>::fn);
    case 5:
      return go(Kernel<5, Out>::fn);
    case 6:
      return go(Kernel<6, Out>::fn);
    case 7:
      return go(Kernel<7, Out>::fn);
    case 8:
      return go(Kernel<8, Out>::fn);
    default:
      return cudaErrorInvalidValue;
  }
}

template <int B, typename Out>
struct Int8Kernel {
  static constexpr auto fn = gemv_int8_kernel<B, Out>;
};
template <int B, typename Out>
struct Int4Kernel {
  static constexpr auto fn = gemv_int4_kernel<B, Out>;
};

__global__ void dequantize_int8_kernel(Int8Weights w, bf16* __restrict__ out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(w.rows) * w.cols) return;
  const int row = static_cast<int>(i / w.cols);
  out[i] = __float2bfloat16(static_cast<float>(w.q[i]) * w.scales[row]);
}

// One thread per word of eight inputs.
__global__ void dequantize_int4_kernel(Int4Weights w, bf16* __restrict__ out) {
  const int64_t word = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int words_per_row = w.cols / 8;
  if (word >= static_cast<int64_t>(w.rows) * words_per_row) return;
  const int row = static_cast<int>(word / words_per_row);
  const int k0 = static_cast<int>(word % words_per_row) * 8;
  const int64_t g = static_cast<int64_t>(row) * (w.cols / 128) + k0 / 128;
  const float s = w.scales[g], zs = w.zero_scales[g];
  const uint32_t packed = w.q[word];
  bf16* dst = out + static_cast<int64_t>(row) * w.cols + k0;
#pragma unroll
  for (int i = 0; i < 8; i += 2) {
    // Not fused, so the bf16 weights are exactly q * s - zs rounded once (the reference, and the CPU's).
    const float a = __fsub_rn(__fmul_rn(static_cast<float>((packed >> (4 * i)) & 15u), s), zs);
    const float b = __fsub_rn(__fmul_rn(static_cast<float>((packed >> (4 * i + 4)) & 15u), s), zs);
    *reinterpret_cast<__nv_bfloat162*>(dst + i) = __floats2bfloat162_rn(a, b);
  }
}

bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

}  // namespace

cudaError_t gemv_int8(const Int8Weights& w, const bf16* x, int batch, void* y, OutType out,
                      cudaStream_t stream) {
  if (w.rows == 0 || batch == 0) return cudaSuccess;
  if (w.cols % 16 != 0 || !aligned16(w.q) || !aligned16(x) || batch < 0 || batch > kMaxQuantGemvBatch)
    return cudaErrorInvalidValue;
  if (out == OutType::F32) return launch_batch<Int8Kernel>(w, x, batch, static_cast<float*>(y), stream);
  return launch_batch<Int8Kernel>(w, x, batch, static_cast<bf16*>(y), stream);
}

cudaError_t gemv_int4(const Int4Weights& w, const bf16* x, int batch, void* y, OutType out,
                      cudaStream_t stream) {
  if (w.rows == 0 || batch == 0) return cudaSuccess;
  if (w.cols % 128 != 0 || !aligned16(w.q) || !aligned16(x) || batch < 0 || batch > kMaxQuantGemvBatch)
    return cudaErrorInvalidValue;
  if (out == OutType::F32) return launch_batch<Int4Kernel>(w, x, batch, static_cast<float*>(y), stream);
  return launch_batch<Int4Kernel>(w, x, batch, static_cast<bf16*>(y), stream);
}

cudaError_t dequantize_int8(const Int8Weights& w, bf16* out, cudaStream_t stream) {
  const int64_t n = static_cast<int64_t>(w.rows) * w.cols;
  if (n == 0) return cudaSuccess;
  dequantize_int8_kernel<<<detail::blocks_for(n, 256), 256, 0, stream>>>(w, out);
  return cudaGetLastError();
}

cudaError_t dequantize_int4(const Int4Weights& w, bf16* out, cudaStream_t stream) {
  if (w.cols % 128 != 0) return cudaErrorInvalidValue;
  const int64_t words = static_cast<int64_t>(w.rows) * (w.cols / 8);
  if (words == 0) return cudaSuccess;
  dequantize_int4_kernel<<<detail::blocks_for(words, 256), 256, 0, stream>>>(w, out);
  return cudaGetLastError();
}

}  // namespace agentrt::kernels
