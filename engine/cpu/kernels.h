// The CPU's inner loops: weight-matrix products straight from bf16/fp16/fp32 weights (converted to fp32 in
// registers, never copied), and the fp32 vector primitives of attention. An AVX2/FMA version is chosen at run
// time when the processor has it; the portable version runs everywhere and is the reference for the fast one.
#pragma once

#include <cstdint>

#include "engine/dtype.h"

namespace agentrt::engine::cpu {

// A row-major weight matrix [rows, cols] as stored in the checkpoint (HF nn.Linear: out_features x
// in_features).
struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int rows = 0;
  int cols = 0;
};

struct Kernels {
  const char* name;
  // y[t, r] = sum_k x[t, k] * w[r, k] for t < m and r in [row_begin, row_end).
  // x: [m, x_stride] fp32 (cols used); y: [m, y_stride] fp32.
  void (*matmul)(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                 int row_begin, int row_end);
  float (*dot)(const float* a, const float* b, int n);
  // y += a * x
  void (*axpy)(float a, const float* x, float* y, int n);
  // Runs `iterations` rounds of independent multiply-adds; returns the FLOP done (for the compute bound).
  double (*fma_flops)(long iterations);
};

// The fastest kernels this processor runs; AGENTRT_CPU_KERNELS=portable in the environment forces the
// fallback.
const Kernels& best_kernels();
const Kernels& portable_kernels();
// Null when the processor lacks AVX2/FMA/F16C.
const Kernels* avx2_kernels();

// One row of a weight matrix as fp32 (embedding lookup, norm weights).
void convert_row(const WeightMatrix& w, int row, float* out);

}  // namespace agentrt::engine::cpu
