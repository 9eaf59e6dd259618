// The CPU's inner loops: weight-matrix products straight from bf16/fp16/fp32 weights (converted in registers,
// never copied) or from int8/int4 weights (unpacked in registers), and the fp32 vector primitives of
// attention. Several variants exist (portable, AVX2, AVX-512, AVX-512 VNNI, AVX-512 BF16); the fastest one
// the processor runs is chosen at run time from CPUID. The portable variant runs everywhere and is the
// reference every other variant is tested against (tests/engine/test_kernels.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dtype.h"

namespace agentrt::engine::cpu {

// How a weight matrix is stored.
//   Dense: `dtype` elements, row-major [rows, cols] as in the checkpoint (HF nn.Linear: out x in).
//   Int8 (W8A16, one scale per output row): data uint8 [rows, row_stride] holding q + 128 for q in
//     [-127, 127] (biased, so that the integer kernels multiply unsigned weights by signed activations);
//     w[r, k] = q * scales[r]. row_stride is cols rounded up to kQuantGroup; the padding holds 128 (q = 0).
//   Int4 (W4A16, groups of kQuantGroup inputs with a zero point): data uint8 [rows, cols / kQuantGroup, 64]:
//     byte j of group g holds q[128 g + j] in its low nibble and q[128 g + 64 + j] in its high nibble;
//     w[r, k] = (q - z) * s, computed as q * s - z * s, with s = group_scales[r, g] (fp16, as AWQ stores
//     them) and z = group_zeros[r, g] in [0, 15]: 4.19 bits per weight in all. cols must be a multiple of
//     kQuantGroup.
enum class WeightFormat { Dense, Int8, Int4 };

inline constexpr int kQuantGroup = 128;

struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;  // Dense only
  int rows = 0;
  int cols = 0;
  WeightFormat format = WeightFormat::Dense;
  const float* scales = nullptr;           // Int8 [rows]
  const uint16_t* group_scales = nullptr;  // Int4 fp16 [rows, cols / kQuantGroup]
  const uint8_t* group_zeros = nullptr;    // Int4 [rows, cols / kQuantGroup]
  int row_stride = 0;                      // Int8: bytes per row (a multiple of kQuantGroup)

  int groups() const { return (cols + kQuantGroup - 1) / kQuantGroup; }
  // Bytes a product reads from this matrix.
  std::size_t bytes() const;
};

// Activations quantized for the integer kernels (decode with Int8/Int4 weights): per token, groups of
// kQuantGroup values share a scale: x[k] ~ q[k] * scale[g]. The caller owns the memory
// (QuantizedInputBuffer).
struct QuantizedInput {
  const int8_t* q = nullptr;     // [m, stride], stride = groups * kQuantGroup, zero past cols
  const float* scale = nullptr;  // [m, groups]
  const float* sum =
      nullptr;  // [m, groups]: scale[g] * sum of q over the group (offset and zero-point terms)
  int m = 0;
  int cols = 0;
  int groups = 0;
  int stride = 0;
};

// Activations rounded to bf16 for the bf16 dot-product kernels (prefill): [m, stride], stride = cols rounded
// up to even, the padding zero.
struct Bf16Input {
  const uint16_t* x = nullptr;
  int m = 0;
  int cols = 0;
  int stride = 0;
};

struct Kernels {
  const char* name;
  // y[t, r] = sum_k x[t, k] * w[r, k] for t < m and r in [row_begin, row_end), any weight format (Int8/Int4
  // dequantized in registers). x: [m, x_stride] fp32 (cols used); y: [m, y_stride] fp32.
  void (*matmul)(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                 int row_begin, int row_end);
  // Fills q/scale/sum of `out` (buffers sized by QuantizedInputBuffer) from x [m, x_stride].
  void (*quantize_input)(const float* x, int m, int x_stride, int cols, int8_t* q, float* scale, float* sum);
  // The same product for Int8/Int4 weights against quantized activations, in integer arithmetic.
  void (*matmul_quantized)(const WeightMatrix& w, const QuantizedInput& x, float* y, int y_stride,
                           int row_begin, int row_end);
  // The product against bf16 activations, for BF16/Int8/Int4 weights (Int8/Int4 dequantized to bf16 in
  // tiles). Null where the processor has no bf16 dot product (then prefill runs `matmul`).
  void (*matmul_bf16)(const WeightMatrix& w, const Bf16Input& x, float* y, int y_stride, int row_begin,
                      int row_end);
  float (*dot)(const float* a, const float* b, int n);
  // y += a * x
  void (*axpy)(float a, const float* x, float* y, int n);
  // The same against int8 vectors (the int8 KV cache; the caller applies the scale).
  float (*dot_i8)(const float* a, const int8_t* b, int n);
  void (*axpy_i8)(float a, const int8_t* x, float* y, int n);
  // Attention over one head of `count` positions whose vectors [d] lie `stride` elements apart:
  // scores: out[i] = q . k_i; mix: out[0:d] += sum_i p[i] * v_i. The int8 forms multiply each position by its
  // scale, scale[i * scale_stride].
  void (*scores)(const float* q, const float* k, std::size_t stride, int count, int d, float* out);
  void (*mix)(const float* p, const float* v, std::size_t stride, int count, int d, float* out);
  void (*scores_i8)(const float* q, const int8_t* k, std::size_t stride, const float* scale,
                    std::size_t scale_stride, int count, int d, float* out);
  void (*mix_i8)(const float* p, const int8_t* v, std::size_t stride, const float* scale,
                 std::size_t scale_stride, int count, int d, float* out);
  // Runs `iterations` rounds of independent multiply-adds of the widest kind the variant's products use;
  // returns the FLOP done (for the compute bound).
  double (*fma_flops)(long iterations);
  // Reads `bytes` (a multiple of 64, 64-byte aligned) with the widest loads this variant has; returns a value
  // depending on every byte (for the memory-bandwidth bound).
  uint64_t (*read_bytes)(const void* data, std::size_t bytes);
};

// The fastest kernels this processor runs. AGENTRT_CPU_KERNELS=NAME in the environment forces a variant
// (portable, avx2, avx512, avx512_vnni, avx512_bf16) when the processor has it.
const Kernels& best_kernels();
const Kernels& portable_kernels();
// Null when the processor lacks AVX2/FMA/F16C.
const Kernels* avx2_kernels();

// Every variant, fastest last, with whether this processor runs it (and if not, what it lacks).
struct KernelVariant {
  std::string_view name;
  const Kernels* kernels;  // null when not supported
  std::string missing;     // the CPU features it lacks, when not supported
};
std::vector<KernelVariant> kernel_variants();
const Kernels* kernels_by_name(std::string_view name);  // null if unknown or unsupported here

// One row of a weight matrix as fp32 (embedding lookup, norm weights, dequantization).
void convert_row(const WeightMatrix& w, int row, float* out);

// Owns the memory of a QuantizedInput / Bf16Input (reused across calls) and fills it with `kernels`.
class QuantizedInputBuffer {
 public:
  const QuantizedInput& quantize(const Kernels& kernels, const float* x, int m, int x_stride, int cols);

 private:
  std::vector<int8_t> q_;
  std::vector<float> scale_, sum_;
  QuantizedInput view_;
};

class Bf16InputBuffer {
 public:
  const Bf16Input& convert(const float* x, int m, int x_stride, int cols);

 private:
  std::vector<uint16_t> x_;
  Bf16Input view_;
};

}  // namespace agentrt::engine::cpu
