// RoPE fused into the split of the packed wqkv product: each row's queries go to q_out, its keys and values
// straight into their paged-cache slot, rotated once.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

// One block per row. Work items: (heads + kv_heads) * half rotation pairs, then kv_heads * head_dim value copies.
__global__ void rope_qkv_split_kernel(const float* __restrict__ qkv, bf16* __restrict__ q_out, PagedKv kv,
                                      const int32_t* __restrict__ slots, const int32_t* __restrict__ positions,
                                      const double* __restrict__ rope_base, double position_scale, int heads) {
  const int row = blockIdx.x;
  const int d = kv.head_dim, half = d / 2, kv_heads = kv.kv_heads, group = heads / kv_heads;
  const int qkv_cols = (heads + 2 * kv_heads) * d;
  const float* packed = qkv + static_cast<int64_t>(row) * qkv_cols;
  const int slot = slots[row];
  const int64_t block = slot / kv.block_size, offset = slot % kv.block_size;
  const double pos = static_cast<double>(positions[row]) * position_scale;
  const double base = rope_base[row];

  const int rotations = (heads + kv_heads) * half;
  for (int item = threadIdx.x; item < rotations + kv_heads * d; item += blockDim.x) {
    if (item < rotations) {
      const int head = item / half, i = item % half;
      // The CPU rounds the inverse frequency to fp32 and takes the angle in fp64; so does this.
      const float inv_freq = static_cast<float>(1.0 / pow(base, 2.0 * i / d));
      double s, c;
      sincos(pos * static_cast<double>(inv_freq), &s, &c);
      const float cf = static_cast<float>(c), sf = static_cast<float>(s);
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
    } else {  // value element
      const int k = (item - rotations) / d, i = (item - rotations) % d;
      const float* src = packed + (k * (group + 2) + group + 1) * d;
      kv.v[((block * kv_heads + k) * kv.block_size + offset) * d + i] = __float2bfloat16(src[i]);
    }
  }
}

}  // namespace

cudaError_t rope_qkv_split(const float* qkv, bf16* q_out, PagedKv kv, const int32_t* slots, const int32_t* positions,
                           const double* rope_base, double position_scale, int rows, int heads, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  rope_qkv_split_kernel<<<rows, 256, 0, stream>>>(qkv, q_out, kv, slots, positions, rope_base, position_scale,
                                                  heads);
  return cudaGetLastError();
}

}  // namespace agentrt::kernels
