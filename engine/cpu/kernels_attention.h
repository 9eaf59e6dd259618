// The attention primitives of every kernel variant, over one head of a run of positions stored `stride`
// elements apart (kernels.h Kernels::scores/mix): written once here in terms of a variant's dot / axpy (and
// their int8 forms); AVX-512 replaces the common head sizes with register-blocked loops. Included by each
// kernels_*.cpp, so everything has internal linkage.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentrt::engine::cpu {
namespace {

template <float (*Dot)(const float*, const float*, int)>
void scores_generic(const float* q, const float* k, std::size_t stride, int count, int d, float* out) {
  for (int i = 0; i < count; ++i) out[i] = Dot(q, k + static_cast<std::size_t>(i) * stride, d);
}

template <void (*Axpy)(float, const float*, float*, int)>
void mix_generic(const float* p, const float* v, std::size_t stride, int count, int d, float* out) {
  for (int i = 0; i < count; ++i) Axpy(p[i], v + static_cast<std::size_t>(i) * stride, out, d);
}

template <float (*DotI8)(const float*, const int8_t*, int)>
void scores_i8_generic(const float* q, const int8_t* k, std::size_t stride, const float* scale,
                       std::size_t scale_stride, int count, int d, float* out) {
  for (int i = 0; i < count; ++i) {
    out[i] = DotI8(q, k + static_cast<std::size_t>(i) * stride, d) *
             scale[static_cast<std::size_t>(i) * scale_stride];
  }
}

template <void (*AxpyI8)(float, const int8_t*, float*, int)>
void mix_i8_generic(const float* p, const int8_t* v, std::size_t stride, const float* scale,
                    std::size_t scale_stride, int count, int d, float* out) {
  for (int i = 0; i < count; ++i) {
    AxpyI8(p[i] * scale[static_cast<std::size_t>(i) * scale_stride], v + static_cast<std::size_t>(i) * stride,
           out, d);
  }
}

}  // namespace
}  // namespace agentrt::engine::cpu
