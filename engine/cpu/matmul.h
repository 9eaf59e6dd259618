// One weight-matrix product on all the pool's threads, through the kernel path that suits it:
//   int8/int4 weights, few tokens (decode): activations quantized to int8 once, integer products per thread;
//   many tokens (prefill) where the processor has a bf16 dot product and the activations may be rounded to
//     bf16 (PrefillActivations): activations rounded to bf16 once, the weights (bf16, or int8/int4
//     dequantized in tiles) multiplied by vdpbf16ps at twice the fp32 rate;
//   otherwise the fp32 product (weights converted in registers).
#pragma once

#include "engine/cpu/kernels.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {

// Token counts at which the paths change.
inline constexpr int kIntegerMaxTokens = 8;  // integer products up to this many tokens
inline constexpr int kBf16MinTokens = 16;    // bf16 dot products from this many tokens on

// Whether prefill may round activations to bf16 (2^-9 relative; llama.cpp does the same for bf16 weights, and
// rounds to fp16 for fp16 weights). Auto and Bf16: for bf16 and int8/int4 weights, where the processor has a
// bf16 dot product (twice the fp32 rate; it moves a 1.8B model's logits by 0.6%, docs/engine.md); f16/f32
// weights keep fp32 activations. F32: never (logits within 1e-3 of the float64 reference,
// tests/engine/test_golden.cpp). Decode keeps fp32 activations either way (it is bound by memory, not by
// multiplies).
enum class PrefillActivations { Auto, F32, Bf16 };

class MatmulRunner {
 public:
  MatmulRunner(const Kernels& kernels, ThreadPool& pool,
               PrefillActivations prefill = PrefillActivations::Auto)
      : kernels_(&kernels), pool_(&pool), prefill_(prefill) {}
  // y[t, r] = sum_k x[t, k] * w[r, k]; x [m, x_stride] fp32, y [m, y_stride] fp32.
  void run(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride);
  const Kernels& kernels() const { return *kernels_; }

 private:
  const Kernels* kernels_;
  ThreadPool* pool_;
  PrefillActivations prefill_;
  QuantizedInputBuffer quantized_;
  Bf16InputBuffer bf16_;
};

}  // namespace agentrt::engine::cpu
