// The kernel tables each variant's file defines (internal to engine/cpu; users go through kernels.h, which
// checks the processor first). A variant's table may only be used once the CPU was found to run it.
#pragma once

#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {

const Kernels& portable_kernel_table();  // kernels_portable.cpp
#if defined(__x86_64__)
const Kernels& avx2_kernel_table();         // kernels_avx2.cpp: AVX2, FMA, F16C
const Kernels& avx512_kernel_table();       // kernels_avx512.cpp: AVX-512 F/BW/VL/DQ
const Kernels& avx512_vnni_kernel_table();  // kernels_avx512_vnni.cpp: + AVX512_VNNI
const Kernels& avx512_bf16_kernel_table();  // kernels_avx512_bf16.cpp: + AVX512_VNNI, AVX512_BF16
#endif

}  // namespace agentrt::engine::cpu
