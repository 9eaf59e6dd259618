// Split-K flash-decoding over the paged KV cache. A thread block takes one sequence, one KV head (all g query
// heads of its group, so each K/V row is read once for the group) and one range of whole cache blocks; its 4
// warps take positions in turn, each lane holding head_dim / 64 bf16 pairs. The ranges' partial results
// (unnormalised output, max, sum) are merged by a second kernel.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kBatch = 4;  // positions per warp whose loads are in flight together
constexpr int kMaxGroup = kMaxDecodeGroup;

template <int D>
__global__ void __launch_bounds__(kWarps * 32)
    attention_decode_kernel(const bf16* __restrict__ q, PagedKv kv, const int32_t* __restrict__ block_tables,
                            int table_stride, const int32_t* __restrict__ lengths, int heads, int splits,
                            float scale_log2, float* __restrict__ partial_o, float* __restrict__ partial_ml) {
  constexpr int kPairs = (D / 2 + 31) / 32;  // bf16 pairs per lane
  __shared__ float ml_s[kWarps][kMaxGroup][2];
  __shared__ float o_s[kWarps][kMaxGroup][D];
  detail::await_producer();
  detail::release_dependents();

  const int seq = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int group = heads / kv.kv_heads;
  const int length = lengths[seq];
  const int blocks = (length + kv.block_size - 1) / kv.block_size;
  const int per_split = (blocks + splits - 1) / splits;
  const int begin = split * per_split * kv.block_size;
  const int end = min(length, (split + 1) * per_split * kv.block_size);
  const int32_t* table = block_tables + static_cast<int64_t>(seq) * table_stride;

  float2 qv[kMaxGroup][kPairs];
#pragma unroll
  for (int h = 0; h < kMaxGroup; ++h) {
#pragma unroll
    for (int p = 0; p < kPairs; ++p) {
      const int pair = lane + 32 * p;
      qv[h][p] = h < group && pair < D / 2
                     ? __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(
                           q + (static_cast<int64_t>(seq) * heads + kv_head * group + h) * D)[pair])
                     : make_float2(0.0f, 0.0f);
    }
  }
  float m[kMaxGroup], l[kMaxGroup];
  float2 acc[kMaxGroup][kPairs];
#pragma unroll
  for (int h = 0; h < kMaxGroup; ++h) {
    m[h] = -INFINITY;
    l[h] = 0.0f;
#pragma unroll
    for (int p = 0; p < kPairs; ++p) acc[h][p] = make_float2(0.0f, 0.0f);
  }

  // A warp takes kBatch of its positions at a time and issues all their K/V loads before the first use: one
  // position at a time left each warp waiting out a table read and a cache read per position.
  for (int first = begin + warp; first < end; first += kWarps * kBatch) {
    __nv_bfloat162 kraw[kBatch][kPairs], vraw[kBatch][kPairs];
#pragma unroll
    for (int j = 0; j < kBatch; ++j) {
      const int pos = first + j * kWarps;
      if (pos >= end) break;
      const int64_t block = table[pos / kv.block_size];
      const int64_t base = ((block * kv.kv_heads + kv_head) * kv.block_size + pos % kv.block_size) * D;
      const auto* krow = reinterpret_cast<const __nv_bfloat162*>(kv.k + base);
      const auto* vrow = reinterpret_cast<const __nv_bfloat162*>(kv.v + base);
#pragma unroll
      for (int p = 0; p < kPairs; ++p) {
        const int pair = lane + 32 * p;
        if (pair < D / 2) {
          kraw[j][p] = krow[pair];
          vraw[j][p] = vrow[pair];
        }
      }
    }
#pragma unroll
    for (int j = 0; j < kBatch; ++j) {
      if (first + j * kWarps >= end) break;
      float2 kp[kPairs], vp[kPairs];
#pragma unroll
      for (int p = 0; p < kPairs; ++p) {
        const bool valid = lane + 32 * p < D / 2;
        kp[p] = valid ? __bfloat1622float2(kraw[j][p]) : make_float2(0.0f, 0.0f);
        vp[p] = valid ? __bfloat1622float2(vraw[j][p]) : make_float2(0.0f, 0.0f);
      }
#pragma unroll
      for (int h = 0; h < kMaxGroup; ++h) {
        if (h >= group) break;
        float dot = 0.0f;
#pragma unroll
        for (int p = 0; p < kPairs; ++p) dot += qv[h][p].x * kp[p].x + qv[h][p].y * kp[p].y;
        const float score = detail::warp_sum(dot) * scale_log2;
        const float new_max = fmaxf(m[h], score);
        const float alpha = exp2f(m[h] - new_max), weight = exp2f(score - new_max);
        m[h] = new_max;
        l[h] = l[h] * alpha + weight;
#pragma unroll
        for (int p = 0; p < kPairs; ++p) {
          acc[h][p].x = acc[h][p].x * alpha + weight * vp[p].x;
          acc[h][p].y = acc[h][p].y * alpha + weight * vp[p].y;
        }
      }
    }
  }

  // Merge the warps, then write this range's partial result.
#pragma unroll
  for (int h = 0; h < kMaxGroup; ++h) {
    if (h >= group) break;
    if (lane == 0) {
      ml_s[warp][h][0] = m[h];
      ml_s[warp][h][1] = l[h];
    }
#pragma unroll
    for (int p = 0; p < kPairs; ++p) {
      const int pair = lane + 32 * p;
      if (pair < D / 2) {
        o_s[warp][h][2 * pair] = acc[h][p].x;
        o_s[warp][h][2 * pair + 1] = acc[h][p].y;
      }
    }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < group * D; idx += blockDim.x) {
    const int h = idx / D, dim = idx % D;
    float max_all = -INFINITY;
    for (int w = 0; w < kWarps; ++w) max_all = fmaxf(max_all, ml_s[w][h][0]);
    float sum = 0.0f, value = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (ml_s[w][h][0] == -INFINITY) continue;  // a warp (or the whole range) that saw no position
      const float weight = exp2f(ml_s[w][h][0] - max_all);
      sum += ml_s[w][h][1] * weight;
      value += o_s[w][h][dim] * weight;
    }
    const int64_t row = (static_cast<int64_t>(seq) * heads + kv_head * group + h) * splits + split;
    partial_o[row * D + dim] = value;
    if (dim == 0) {
      partial_ml[row * 2] = max_all;
      partial_ml[row * 2 + 1] = sum;
    }
  }
}

// One block per (sequence, head), one thread per output element.
__global__ void attention_decode_merge_kernel(const float* __restrict__ partial_o,
                                              const float* __restrict__ partial_ml,
                                              const int32_t* __restrict__ lengths, int heads, int block_size,
                                              int splits, int head_dim, bf16* __restrict__ out) {
  detail::await_producer();
  detail::release_dependents();
  const int64_t row = blockIdx.x;  // seq * heads + head
  const int dim = threadIdx.x;
  if (dim >= head_dim) return;
  const float* ml = partial_ml + row * splits * 2;
  // Splits past the sequence's last cache block saw no position: skip them (the split count is fixed per
  // batch size for graph capture, so a short sequence leaves most of them empty).
  const int blocks = (lengths[row / heads] + block_size - 1) / block_size;
  const int per_split = (blocks + splits - 1) / splits;
  const int used = per_split > 0 ? (blocks + per_split - 1) / per_split : 0;
  float max_all = -INFINITY;
#pragma unroll 8
  for (int s = 0; s < used; ++s) max_all = fmaxf(max_all, ml[2 * s]);
  float sum = 0.0f, value = 0.0f;
#pragma unroll 8
  for (int s = 0; s < used; ++s) {
    if (ml[2 * s] == -INFINITY) continue;
    const float weight = exp2f(ml[2 * s] - max_all);
    sum += ml[2 * s + 1] * weight;
    value += partial_o[(row * splits + s) * head_dim + dim] * weight;
  }
  out[row * head_dim + dim] = __float2bfloat16(value / sum);
}

template <int D>
cudaError_t launch(const bf16* q, PagedKv kv, const int32_t* block_tables, int table_stride,
                   const int32_t* lengths, int seqs, int heads, int splits, float* partial_o,
                   float* partial_ml, bf16* out, cudaStream_t stream) {
  const float scale_log2 = 1.4426950408889634f / sqrtf(static_cast<float>(D));
  const dim3 grid(seqs, kv.kv_heads, splits);
  if (const cudaError_t error = detail::launch_chained(attention_decode_kernel<D>, grid, kWarps * 32, stream,
                                                       0, q, kv, block_tables, table_stride, lengths, heads,
                                                       splits, scale_log2, partial_o, partial_ml);
      error != cudaSuccess)
    return error;
  return detail::launch_chained(attention_decode_merge_kernel, seqs * heads, D < 32 ? 32 : D, stream, 0,
                                partial_o, partial_ml, lengths, heads, kv.block_size, splits, D, out);
}

}  // namespace

cudaError_t attention_decode(const bf16* q, PagedKv kv, const int32_t* block_tables, int table_stride,
                             const int32_t* lengths, int seqs, int heads, int splits, float* partial_o,
                             float* partial_ml, bf16* out, cudaStream_t stream) {
  if (seqs == 0) return cudaSuccess;
  if (splits < 1 || heads / kv.kv_heads > kMaxGroup) return cudaErrorInvalidValue;
  return detail::with_head_dim(kv.head_dim, [&](auto d) {
    return launch<decltype(d)::value>(q, kv, block_tables, table_stride, lengths, seqs, heads, splits,
                                      partial_o, partial_ml, out, stream);
  });
}

}  // namespace agentrt::kernels
