// The AVX-512 kernels with AVX512_VNNI: the integer products (decode with int8/int4 weights) use vpdpbusd.
// Compiled with the AVX-512 flags plus -mavx512vnni (engine/CMakeLists.txt); see kernels_avx512_impl.h.
#include "engine/cpu/kernel_tables.h"
#include "engine/cpu/kernels_avx512_impl.h"

namespace agentrt::engine::cpu {
namespace {

const Kernels kAvx512Vnni{"avx512_vnni", &matmul,    &quantize_input, &matmul_quantized, nullptr,
                          &dot,          &axpy,      &dot_i8,         &axpy_i8,          &scores,
                          &mix,          &scores_i8, &mix_i8,         &fma_flops_f32,    &read_bytes};

}  // namespace

const Kernels& avx512_vnni_kernel_table() {
  return kAvx512Vnni;
}

}  // namespace agentrt::engine::cpu
