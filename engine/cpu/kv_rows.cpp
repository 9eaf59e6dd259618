#include "engine/cpu/kv_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace agentrt::engine::cpu {
namespace {

template <class T>
void grow(std::unique_ptr<T[]>& buffer, std::size_t elements, std::size_t keep) {
  auto bigger = std::make_unique_for_overwrite<T[]>(elements);
  if (keep > 0) std::memcpy(bigger.get(), buffer.get(), keep * sizeof(T));
  buffer = std::move(bigger);
}

}  // namespace

void KvRows::resize(std::size_t rows, std::size_t keep) {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  keep = std::min(keep, rows_);
  if (format_ == KvFormat::F32) {
    grow(f32_, rows * width, keep * width);
  } else {
    grow(i8_, rows * width, keep * width);
    grow(scale_, rows * heads_, keep * heads_);
  }
  rows_ = rows;
}

void KvRows::store(std::size_t row, const float* x) {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  if (format_ == KvFormat::F32) {
    std::memcpy(f32_.get() + row * width, x, width * sizeof(float));
    return;
  }
  int8_t* q = i8_.get() + row * width;
  for (int h = 0; h < heads_; ++h) {
    const float* xh = x + static_cast<std::size_t>(h) * head_dim_;
    float max_abs = 0.0f;
    for (int i = 0; i < head_dim_; ++i) max_abs = std::max(max_abs, std::fabs(xh[i]));
    const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
    for (int i = 0; i < head_dim_; ++i) {
      q[static_cast<std::size_t>(h) * head_dim_ + i] = static_cast<int8_t>(std::nearbyint(xh[i] * inv));
    }
    scale_[row * heads_ + h] = max_abs / 127.0f;
  }
}

KvSpan KvRows::at(std::size_t row) const {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  if (format_ == KvFormat::F32) return {f32_.get() + row * width, nullptr, nullptr};
  return {nullptr, i8_.get() + row * width, scale_.get() + row * heads_};
}

std::size_t KvRows::row_bytes() const {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  return format_ == KvFormat::F32 ? width * sizeof(float) : width + heads_ * sizeof(float);
}

}  // namespace agentrt::engine::cpu
