// The portable kernels: plain C++ the compiler may vectorise for any target.
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {

#if defined(__x86_64__)
const Kernels& avx2_kernel_table();  // kernels_avx2.cpp
#endif

namespace {

template <DType D>
inline float load_one(const void* base, std::size_t index) {
  if constexpr (D == DType::BF16) {
    return bf16_to_f32(static_cast<const uint16_t*>(base)[index]);
  } else if constexpr (D == DType::F16) {
    return f16_to_f32(static_cast<const uint16_t*>(base)[index]);
  } else {
    return static_cast<const float*>(base)[index];
  }
}

template <DType D>
void matmul_portable(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride,
                     int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const std::size_t row = static_cast<std::size_t>(r) * w.cols;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<std::size_t>(t) * x_stride;
      float sum = 0.0f;
      for (int k = 0; k < w.cols; ++k) sum += load_one<D>(w.data, row + k) * xt[k];
      y[static_cast<std::size_t>(t) * y_stride + r] = sum;
    }
  }
}

void matmul(const WeightMatrix& w, const float* x, int m, int x_stride, float* y, int y_stride, int row_begin,
            int row_end) {
  switch (w.dtype) {
    case DType::BF16:
      return matmul_portable<DType::BF16>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F16:
      return matmul_portable<DType::F16>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
    case DType::F32:
      return matmul_portable<DType::F32>(w, x, m, x_stride, y, y_stride, row_begin, row_end);
  }
}

float dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

// Peak scalar multiply-add throughput (what the portable kernels can reach at best).
double fma_flops(long iterations) {
  float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (long it = 0; it < iterations; ++it) {
    for (float& a : acc) a = a * 0.999f + 0.001f;
  }
  volatile float sink = acc[0] + acc[7];
  (void)sink;
  return 2.0 * 8 * static_cast<double>(iterations);
}

const Kernels kPortable{"portable", &matmul, &dot, &axpy, &fma_flops};

}  // namespace

const Kernels& portable_kernels() {
  return kPortable;
}

#if defined(__x86_64__)
// CPUID leaf 1, ECX bit 29. Asked directly because clang before 15 does not know "f16c" in __builtin_cpu_supports.
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
}
#endif

const Kernels* avx2_kernels() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c()) {
    return &avx2_kernel_table();
  }
#endif
  return nullptr;
}

const Kernels& best_kernels() {
  static const Kernels* chosen = [] {
    const char* forced = std::getenv("AGENTRT_CPU_KERNELS");
    if (forced != nullptr && std::string_view(forced) == "portable") return &kPortable;
    const Kernels* fast = avx2_kernels();
    return fast != nullptr ? fast : &kPortable;
  }();
  return *chosen;
}

void convert_row(const WeightMatrix& w, int row, float* out) {
  const std::size_t base = static_cast<std::size_t>(row) * w.cols;
  for (int k = 0; k < w.cols; ++k) {
    switch (w.dtype) {
      case DType::BF16:
        out[k] = load_one<DType::BF16>(w.data, base + k);
        break;
      case DType::F16:
        out[k] = load_one<DType::F16>(w.data, base + k);
        break;
      case DType::F32:
        out[k] = load_one<DType::F32>(w.data, base + k);
        break;
    }
  }
}

}  // namespace agentrt::engine::cpu
