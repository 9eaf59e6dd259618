// kernels: the CUDA kernels of the engine (.cu/.cuh) and their host launchers. They know tensor shapes and
// dtypes only, nothing of models, checkpoints or agents. They include only the CUDA toolkit and the standard
// library; engine/cuda is their one user.
//
// Conventions: every tensor is row-major and dense unless a stride is given; bf16 is __nv_bfloat16. Launchers
// enqueue on `stream`, never synchronise, and return the launch's error (cudaGetLastError) so the caller can
// check it; they are safe to capture in a CUDA graph. Shapes are checked by the caller (engine/cuda).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace agentrt::kernels {

using bf16 = __nv_bfloat16;

// --- elementwise (elementwise.cu) -------------------------------------------------------------------------

// out[t, :] = table[ids[t], :] as fp32. table: [vocab, hidden] bf16; ids: [rows] int32 (already validated);
// out: [rows, hidden] fp32.
cudaError_t embedding_gather(const bf16* table, const int32_t* ids, float* out, int rows, int hidden,
                             cudaStream_t stream);

// out[t, j] = silu(gate_up[t, j]) * gate_up[t, ff + j]. gate_up: [rows, 2 * ff] bf16 (gate half first, as
// the engine packs w1 over w3); out: [rows, ff] bf16.
cudaError_t swiglu(const bf16* gate_up, bf16* out, int rows, int ff, cudaStream_t stream);

// Fills data[0, n) with uniform values in [-scale, scale) from a counter-based hash of (seed, index), so a
// buffer's contents depend on nothing but its seed.
cudaError_t fill_random_bf16(bf16* data, int64_t n, float scale, uint64_t seed, cudaStream_t stream);
cudaError_t fill_random_f32(float* data, int64_t n, float lo, float hi, uint64_t seed, cudaStream_t stream);

// --- normalisation (rmsnorm.cu) ----------------------------------------------------------------------------

// The residual add fused with the RMSNorm that follows it (HF InternLM2RMSNorm, fp32):
//   if delta: x[t, :] += delta[t, :]            (x, delta: [rows, cols] fp32; x updated in place)
//   out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * weight   (weight: [cols] fp32, out: [rows, cols]
//   bf16)
cudaError_t add_rmsnorm(float* x, const float* delta, const float* weight, bf16* out, int rows, int cols,
                        float eps, cudaStream_t stream);

// --- rope + qkv split (rope.cu) ----------------------------------------------------------------------------

// Where the paged KV cache of one layer lives: K and V each [num_blocks, kv_heads, block_size, head_dim]
// bf16.
struct PagedKv {
  bf16* k = nullptr;
  bf16* v = nullptr;
  int block_size = 0;
  int kv_heads = 0;
  int head_dim = 0;
};

// Unpacks InternLM2's packed wqkv product and applies rotate-half RoPE to queries and keys:
//   qkv: [rows, (heads + 2 * kv_heads) * head_dim] fp32, per KV head k rows [g queries, key k, value k];
//   q_out: [rows, heads, head_dim] bf16 (rotated);
//   K and V of row t go to slot slots[t] of `kv` (block slots[t] / block_size, offset slots[t] % block_size);
//   positions: [rows] int32; rope_base: [rows] fp64, the (dynamic-NTK) base for each row's sequence length;
//   position_scale: linear scaling (1 / factor) or 1.
// The angle is position * float(1 / base^(2i / head_dim)) in fp64, as the CPU backend computes it.
cudaError_t rope_qkv_split(const float* qkv, bf16* q_out, PagedKv kv, const int32_t* slots,
                           const int32_t* positions, const double* rope_base, double position_scale, int rows,
                           int heads, cudaStream_t stream);

// --- attention (attention_prefill.cu, attention_decode.cu)
// --------------------------------------------------

// Head sizes the attention kernels are built for.
bool attention_head_dim_supported(int head_dim);
// Largest query-heads-per-KV-head group the decode kernel takes.
constexpr int kMaxDecodeGroup = 8;

// Causal attention of `rows` new queries of one sequence against its paged cache (flash-attention style, bf16
// tensor cores, fp32 softmax): query i sits at position start + i and sees keys 0 .. start + i.
//   q: [rows, heads, head_dim] bf16; block_table: [ceil((start + rows) / block_size)] int32 (device);
//   out: [rows, heads * head_dim] bf16. Query head h reads KV head h / (heads / kv_heads).
cudaError_t attention_prefill(const bf16* q, PagedKv kv, const int32_t* block_table, int start, int rows,
                              int heads, bf16* out, cudaStream_t stream);

// Split-K flash-decoding: one new query per sequence against its paged cache.
//   q: [seqs, heads, head_dim] bf16; block_tables: [seqs, table_stride] int32; lengths: [seqs] int32 (keys to
//   read, the new token's included); out: [seqs, heads * head_dim] bf16.
//   partial_o: [seqs, heads, splits, head_dim] fp32, partial_ml: [seqs, heads, splits, 2] fp32 (scratch).
// Each sequence's keys are cut into `splits` ranges (whole blocks) read by separate thread blocks; a second
// kernel merges the ranges' softmax statistics. `splits` is fixed per launch so the launch can be captured in
// a graph while lengths change.
cudaError_t attention_decode(const bf16* q, PagedKv kv, const int32_t* block_tables, int table_stride,
                             const int32_t* lengths, int seqs, int heads, int splits, float* partial_o,
                             float* partial_ml, bf16* out, cudaStream_t stream);

// --- matrix products (gemv.cu, gemm.cpp)
// --------------------------------------------------------------------

enum class OutType { F32, BF16 };

// Batch-1 decode: y[r] = sum_k w[r, k] * x[k]. w: [rows, cols] bf16; x: [cols] bf16; y: [rows] of `out`. One
// warp per row with 128-bit loads when cols % 8 == 0 and the pointers are 16-byte aligned (else a scalar
// path).
cudaError_t gemv_bf16(const bf16* w, const bf16* x, void* y, OutType out, int rows, int cols,
                      cudaStream_t stream);

// Whether kernels launch as programmatic dependents of the previous kernel (compute capability 9.0 and later,
// unless the environment sets AGENTRT_CUDA_PDL=0): each kernel's blocks are then scheduled while the previous
// kernel finishes, and products start streaming their weights before their input is ready.
bool programmatic_launch_enabled();

// Batch-1 w1/w3 product with SwiGLU fused in: out[j] = silu(gate_j) * up_j with gate_j = w13[j] . x and
// up_j = w13[ff + j] . x. w13: [2 * ff, cols] bf16 ([w1; w3]); x: [cols] bf16; out: [ff] bf16. Exactly the
// numbers of gemv_bf16 (bf16 out) followed by swiglu, one launch and one buffer round trip fewer.
cudaError_t gemv_swiglu_bf16(const bf16* w13, const bf16* x, bf16* out, int ff, int cols,
                             cudaStream_t stream);

// cuBLASLt bf16 products with fp32 accumulation: y[m, n] = x[m, k] @ w[n, k]^T (w as nn.Linear stores it).
// One per stream; algorithms are chosen once per shape and cached. Not thread-safe.
class Gemm {
 public:
  Gemm();
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;
  // Throws std::runtime_error with cuBLAS's status when the product cannot run.
  void run(const bf16* x, const bf16* w, void* y, OutType out, int m, int n, int k, cudaStream_t stream);

 private:
  struct State;
  State* state_;
};

// --- quantized products (gemv_quant.cu, gemm_quant.cpp) ----------------------------------------------------

// W8A16: q int8 [rows, cols], one scale per output row: w[r, k] = q[r, k] * scales[r].
struct Int8Weights {
  const int8_t* q = nullptr;
  const float* scales = nullptr;  // [rows]
  int rows = 0;
  int cols = 0;
};

// W4A16, groups of 128 inputs with a zero point: q [rows, cols / 8] uint32, word j of a row holding inputs
// 8j .. 8j+7 in nibbles 0..7 (lowest first); scales and zero_scales (zero * scale) [rows, cols / 128] fp32:
// w[r, k] = q * scale - zero_scale. (The AutoAWQ checkpoint layout, [in, out / 8] with its column order, is
// repacked into this one at load: here every lane's 16-byte load is eight consecutive inputs of one row.)
constexpr int kInt4Group = 128;  // inputs per scale and zero point
struct Int4Weights {
  const uint32_t* q = nullptr;
  const float* scales = nullptr;
  const float* zero_scales = nullptr;
  int rows = 0;
  int cols = 0;
};

// Largest batch the quantized GEMV kernels take; above it quantized_matmul dequantizes for cuBLASLt.
constexpr int kMaxQuantGemvBatch = 8;

// Decode products for batch 1..kMaxQuantGemvBatch: y[b, r] = sum_k w[r, k] * x[b, k]. x: [batch, cols] bf16
// (16-byte aligned); y: [batch, rows] of `out`. int8 needs cols % 16 == 0, int4 cols % 128 == 0, and 16-byte
// aligned q; cudaErrorInvalidValue otherwise.
cudaError_t gemv_int8(const Int8Weights& w, const bf16* x, int batch, void* y, OutType out,
                      cudaStream_t stream);
cudaError_t gemv_int4(const Int4Weights& w, const bf16* x, int batch, void* y, OutType out,
                      cudaStream_t stream);

// The weights as bf16 [rows, cols] (for cuBLASLt), each w rounded to bf16 once.
cudaError_t dequantize_int8(const Int8Weights& w, bf16* out, cudaStream_t stream);
cudaError_t dequantize_int4(const Int4Weights& w, bf16* out, cudaStream_t stream);

// y[m, rows] = x[m, cols] @ w^T for any m: the GEMV kernels up to kMaxQuantGemvBatch rows of x, else the
// weights dequantized into `scratch` ([rows, cols] bf16) and multiplied by `gemm`. Throws std::runtime_error
// when a launch or cuBLASLt fails.
void quantized_matmul(Gemm& gemm, const Int8Weights& w, const bf16* x, int m, void* y, OutType out,
                      bf16* scratch, cudaStream_t stream);
void quantized_matmul(Gemm& gemm, const Int4Weights& w, const bf16* x, int m, void* y, OutType out,
                      bf16* scratch, cudaStream_t stream);

// --- sampling (sampling.cu)
// ---------------------------------------------------------------------------------

// out[r] = the index of the largest logits[r, :] (the first on ties). logits: [rows, vocab] fp32.
cudaError_t argmax_rows(const float* logits, int32_t* out, int rows, int vocab, cudaStream_t stream);

// Temperature / top-k / top-p sampling, one block per row. Keeps the tokens whose logit is at least the k-th
// largest (top_k > 0) and, among those, the fewest largest whose probability mass reaches top_p (top_p < 1);
// ties at a threshold are all kept. Then picks the token where uniform[r] * (kept mass) falls in the kept
// tokens' cumulative mass, walked in index order. temperature > 0. logits: [rows, vocab] fp32; uniform:
// [rows] in [0, 1); out: [rows].
cudaError_t sample_top_k_top_p(const float* logits, const float* uniform, int32_t* out, int rows, int vocab,
                               float temperature, int top_k, float top_p, cudaStream_t stream);

}  // namespace agentrt::kernels
