// Causal prefill attention, flash-attention 2 style on bf16 tensor cores (mma.sync m16n8k16, sm_80 and
// later): a block takes 64 queries of one head, each warp 16 of them; K/V tiles of 64 keys are gathered from
// the paged cache into shared memory; scores, the online softmax and the output stay in registers.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16): with g = lane / 4 and t = lane % 4,
//   A (16x16, row-major): a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)
//   B (16x8, k x n):      b0 (k = 2t..2t+1, n = g), b1 (k = 2t+8.., n = g)
//   C (16x8 fp32):        c0,c1 (g, 2t..2t+1), c2,c3 (g+8, 2t..2t+1)
// so the C fragments of two adjacent 8-key score tiles are, packed to bf16, the A fragment of P for P @ V.
#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kQueriesPerBlock = 64;  // 4 warps x 16
constexpr int kKeysPerTile = 64;
constexpr int kThreads = 128;

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_raw(bf16 lo, bf16 hi) {
  return static_cast<uint32_t>(__bfloat16_as_ushort(lo)) |
         (static_cast<uint32_t>(__bfloat16_as_ushort(hi)) << 16);
}

template <int D>
__global__ void __launch_bounds__(kThreads)
    attention_prefill_kernel(const bf16* __restrict__ q, PagedKv kv, const int32_t* __restrict__ block_table,
                             int start, int rows, int heads, float scale_log2, bf16* __restrict__ out) {
  // Rows padded by 16 bytes: the 8 row groups g of a fragment load then hit different banks.
  constexpr int kStride = D + 8;
  __shared__ __align__(16) bf16 k_s[kKeysPerTile * kStride];
  __shared__ __align__(16) bf16 v_s[kKeysPerTile * kStride];
  detail::await_producer();
  detail::release_dependents();

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int head = blockIdx.y, kv_head = head / (heads / kv.kv_heads);
  const int q0 = blockIdx.x * kQueriesPerBlock + warp * 16;  // this warp's first query row

  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int row = q0 + g + 8 * (i & 1), col = kc * 16 + 2 * t + 8 * (i >> 1);
      qf[kc][i] =
          row < rows
              ? *reinterpret_cast<const uint32_t*>(q + (static_cast<int64_t>(row) * heads + head) * D + col)
              : 0u;
    }
  }

  float o[D / 8][4];
#pragma unroll
  for (int dn = 0; dn < D / 8; ++dn) o[dn][0] = o[dn][1] = o[dn][2] = o[dn][3] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};

  // Keys this block needs: up to its last query's position (causal).
  const int last_row = min(rows, static_cast<int>(blockIdx.x + 1) * kQueriesPerBlock) - 1;
  const int key_end = start + last_row + 1;
  for (int k0 = 0; k0 < key_end; k0 += kKeysPerTile) {
    __syncthreads();  // the previous tile is no longer read
    for (int idx = threadIdx.x; idx < kKeysPerTile * (D / 8); idx += kThreads) {
      const int r = idx / (D / 8), c = (idx % (D / 8)) * 8, key = k0 + r;
      uint4 kval = make_uint4(0, 0, 0, 0), vval = make_uint4(0, 0, 0, 0);
      if (key < key_end) {
        const int64_t block = block_table[key / kv.block_size];
        const int64_t addr = ((block * kv.kv_heads + kv_head) * kv.block_size + key % kv.block_size) * D + c;
        kval = *reinterpret_cast<const uint4*>(kv.k + addr);
        vval = *reinterpret_cast<const uint4*>(kv.v + addr);
      }
      *reinterpret_cast<uint4*>(k_s + r * kStride + c) = kval;
      *reinterpret_cast<uint4*>(v_s + r * kStride + c) = vval;
    }
    __syncthreads();

    // S = Q K^T for 16 queries x 64 keys.
    float s[kKeysPerTile / 8][4];
#pragma unroll
    for (int nt = 0; nt < kKeysPerTile / 8; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
      const bf16* krow = k_s + (nt * 8 + g) * kStride + 2 * t;
#pragma unroll
      for (int kc = 0; kc < D / 16; ++kc) {
        const uint32_t b0 = *reinterpret_cast<const uint32_t*>(krow + kc * 16);
        const uint32_t b1 = *reinterpret_cast<const uint32_t*>(krow + kc * 16 + 8);
        mma_bf16(s[nt], qf[kc], b0, b1);
      }
    }

    // Causal mask, scale into the log2 domain, online softmax (two rows per thread: g and g + 8).
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kKeysPerTile / 8; ++nt) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = i >> 1;
        const int key = k0 + nt * 8 + 2 * t + (i & 1);
        const int position = start + q0 + g + 8 * r;
        s[nt][i] = key <= position && key < key_end ? s[nt][i] * scale_log2 : -INFINITY;
        tile_max[r] = fmaxf(tile_max[r], s[nt][i]);
      }
    }
    float alpha[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(detail::kFullMask, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(detail::kFullMask, tile_max[r], 2));
      const float new_max = fmaxf(row_max[r], tile_max[r]);
      // A row with every key masked so far keeps max -inf; subtracting 0 then gives exp2(-inf) = 0, not NaN.
      const float shift = new_max == -INFINITY ? 0.0f : new_max;
      alpha[r] = exp2f(row_max[r] - shift);
      row_max[r] = new_max;
      row_sum[r] *= alpha[r];
#pragma unroll
      for (int nt = 0; nt < kKeysPerTile / 8; ++nt) {
        s[nt][2 * r] = exp2f(s[nt][2 * r] - shift);
        s[nt][2 * r + 1] = exp2f(s[nt][2 * r + 1] - shift);
        row_sum[r] += s[nt][2 * r] + s[nt][2 * r + 1];
      }
    }
#pragma unroll
    for (int dn = 0; dn < D / 8; ++dn) {
      o[dn][0] *= alpha[0];
      o[dn][1] *= alpha[0];
      o[dn][2] *= alpha[1];
      o[dn][3] *= alpha[1];
    }

    // O += P V, 16 keys at a time.
#pragma unroll
    for (int kc = 0; kc < kKeysPerTile / 16; ++kc) {
      const uint32_t a[4] = {detail::pack_bf16x2(s[2 * kc][0], s[2 * kc][1]),
                             detail::pack_bf16x2(s[2 * kc][2], s[2 * kc][3]),
                             detail::pack_bf16x2(s[2 * kc + 1][0], s[2 * kc + 1][1]),
                             detail::pack_bf16x2(s[2 * kc + 1][2], s[2 * kc + 1][3])};
      const bf16* vrow = v_s + (kc * 16 + 2 * t) * kStride + g;
#pragma unroll
      for (int dn = 0; dn < D / 8; ++dn) {
        const bf16* v = vrow + dn * 8;
        const uint32_t b0 = pack_raw(v[0], v[kStride]);
        const uint32_t b1 = pack_raw(v[8 * kStride], v[9 * kStride]);
        mma_bf16(o[dn], a, b0, b1);
      }
    }
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float sum = row_sum[r];
    sum += __shfl_xor_sync(detail::kFullMask, sum, 1);
    sum += __shfl_xor_sync(detail::kFullMask, sum, 2);
    const int row = q0 + g + 8 * r;
    if (row >= rows) continue;
    const float inv = 1.0f / sum;
    bf16* dst = out + (static_cast<int64_t>(row) * heads + head) * D + 2 * t;
#pragma unroll
    for (int dn = 0; dn < D / 8; ++dn) {
      *reinterpret_cast<__nv_bfloat162*>(dst + dn * 8) =
          __floats2bfloat162_rn(o[dn][2 * r] * inv, o[dn][2 * r + 1] * inv);
    }
  }
}

template <int D>
cudaError_t launch(const bf16* q, PagedKv kv, const int32_t* block_table, int start, int rows, int heads,
                   bf16* out, cudaStream_t stream) {
  const dim3 grid(detail::blocks_for(rows, kQueriesPerBlock), heads);
  const float scale_log2 = 1.4426950408889634f / sqrtf(static_cast<float>(D));
  return detail::launch_chained(attention_prefill_kernel<D>, grid, kThreads, stream, 0, q, kv, block_table,
                                start, rows, heads, scale_log2, out);
}

}  // namespace

bool attention_head_dim_supported(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128;
}

cudaError_t attention_prefill(const bf16* q, PagedKv kv, const int32_t* block_table, int start, int rows,
                              int heads, bf16* out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  return detail::with_head_dim(kv.head_dim, [&](auto d) {
    return launch<decltype(d)::value>(q, kv, block_table, start, rows, heads, out, stream);
  });
}

}  // namespace agentrt::kernels
