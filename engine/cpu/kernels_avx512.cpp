// The AVX-512 (F/BW/VL/DQ) kernels: fp32 products 16 wide, integer products through vpmaddubsw. Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c (engine/CMakeLists.txt); see kernels_avx512_impl.h.
#include "engine/cpu/kernel_tables.h"
#include "engine/cpu/kernels_avx512_impl.h"

namespace agentrt::engine::cpu {
namespace {

const Kernels kAvx512{"avx512", &matmul,    &quantize_input, &matmul_quantized, nullptr,
                      &dot,     &axpy,      &dot_i8,         &axpy_i8,          &scores,
                      &mix,     &scores_i8, &mix_i8,         &fma_flops_f32,    &read_bytes};

}  // namespace

const Kernels& avx512_kernel_table() {
  return kAvx512;
}

}  // namespace agentrt::engine::cpu
