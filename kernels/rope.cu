// RoPE fused into the split of the packed wqkv product: each row's queries go to q_out, its keys and values
// straight into their paged-cache slot, rotated once.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kMaxHalf = 128;      // head_dim up to 256
constexpr int kUnitsPerBlock = 4;  // heads handled by one block

// A row's units are its query heads, then its key heads (rotated), then its value heads (copied); each unit
// is half items (a rotation pair, or two value elements). Grid: (rows, units / kUnitsPerBlock), so a decode
// step's single row is spread over many SMs. Each block makes the row's cos/sin table (half entries, one fp64
// pow and sincos each) once in shared memory: computing it per (head, pair) made this the slowest kernel of a
// decode step.
__global__ void rope_qkv_split_kernel(const float* __restrict__ qkv, bf16* __restrict__ q_out, PagedKv kv,
                                      const int32_t* __restrict__ slots,
                                      const int32_t* __restrict__ positions,
                                      const double* __restrict__ rope_base, double position_scale,
                                      int heads) {
  detail::await_producer();
  detail::release_dependents();
  const int row = blockIdx.x;
  const int d = kv.head_dim, half = d / 2, kv_heads = kv.kv_heads, group = heads / kv_heads;
  const int qkv_cols = (heads + 2 * kv_heads) * d;
  const float* packed = qkv + static_cast<int64_t>(row) * qkv_cols;
  const int slot = slots[row];
  const int64_t block = slot / kv.block_size, offset = slot % kv.block_size;
  const double pos = static_cast<double>(positions[row]) * position_scale;
  const double base = rope_base[row];
  __shared__ float cos_s[kMaxHalf], sin_s[kMaxHalf];
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    // The CPU rounds the inverse frequency to fp32 and takes the angle in fp64; so does this.
    const float inv_freq = static_cast<float>(1.0 / pow(base, 2.0 * i / d));
    double s, c;
    sincos(pos * static_cast<double>(inv_freq), &s, &c);
    cos_s[i] = static_cast<float>(c);
    sin_s[i] = static_cast<float>(s);
  }
  __syncthreads();

  const int units = heads + 2 * kv_heads;
  const int first = blockIdx.y * kUnitsPerBlock * half;
  const int last = min(units, static_cast<int>(blockIdx.y + 1) * kUnitsPerBlock) * half;
  for (int item = first + threadIdx.x; item < last; item += blockDim.x) {
    const int head = item / half, i = item % half;
    if (head < heads + kv_heads) {
      const float cf = cos_s[i], sf = sin_s[i];
      const float* src;
      bf16* dst;
      if (head < heads) {  // query head
        src = packed + ((head / group) * (group + 2) + head % group) * d;
        dst = q_out + (static_cast<int64_t>(row) * heads + head) * d;
      } else {  // key head
        const int k = head - heads;
        src = packed + (k * (group + 2) + group) * d;
        dst = kv.k + ((block * kv_heads + k) * kv.block_size + offset) * d;
      }
      const float a = src[i], b = src[i + half];
      dst[i] = __float2bfloat16(a * cf - b * sf);
      dst[i + half] = __float2bfloat16(b * cf + a * sf);
    } else {  // two value elements
      const int k = head - heads - kv_heads;
      const float* src = packed + (k * (group + 2) + group + 1) * d;
      bf16* dst = kv.v + ((block * kv_heads + k) * kv.block_size + offset) * d;
      dst[i] = __float2bfloat16(src[i]);
      dst[i + half] = __float2bfloat16(src[i + half]);
    }
  }
}

}  // namespace

cudaError_t rope_qkv_split(const float* qkv, bf16* q_out, PagedKv kv, const int32_t* slots,
                           const int32_t* positions, const double* rope_base, double position_scale, int rows,
                           int heads, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (kv.head_dim % 2 != 0 || kv.head_dim / 2 > kMaxHalf) return cudaErrorInvalidValue;
  const int units = heads + 2 * kv.kv_heads;
  const dim3 grid(rows, detail::blocks_for(units, kUnitsPerBlock));
  return detail::launch_chained(rope_qkv_split_kernel, grid, 256, stream, 0, qkv, q_out, kv, slots, positions,
                                rope_base, position_scale, heads);
}

}  // namespace agentrt::kernels
