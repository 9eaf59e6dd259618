#include "engine/cpu/kv_rows.h"

#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>

#include <cstring>
#include <new>
#include <utility>

namespace agentrt::engine::cpu {
GrowableBuffer::~GrowableBuffer() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

GrowableBuffer::GrowableBuffer(GrowableBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

GrowableBuffer& GrowableBuffer::operator=(GrowableBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void GrowableBuffer::grow(std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  bytes = (bytes + page - 1) / page * page;
  if (bytes <= size_) return;
  void* mapped = data_ == nullptr
                     ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                     : ::mremap(data_, size_, bytes, MREMAP_MAYMOVE);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  data_ = mapped;
  size_ = bytes;
}

void KvRows::reserve(std::size_t rows) {
  if (rows <= rows_) return;
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  if (format_ == KvFormat::F32) {
    values_.grow(rows * width * sizeof(float));
  } else {
    values_.grow(rows * width);
    scales_.grow(rows * heads_ * sizeof(float));
  }
  rows_ = rows;
}

void KvRows::store(std::size_t row, const float* x) {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  if (format_ == KvFormat::F32) {
    std::memcpy(static_cast<float*>(values_.data()) + row * width, x, width * sizeof(float));
    return;
  }
  int8_t* q = static_cast<int8_t*>(values_.data()) + row * width;
  for (int h = 0; h < heads_; ++h) {
    const float* xh = x + static_cast<std::size_t>(h) * head_dim_;
    float max_abs = 0.0f;
    for (int i = 0; i < head_dim_; ++i) max_abs = std::max(max_abs, std::fabs(xh[i]));
    const float inv = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
    for (int i = 0; i < head_dim_; ++i) {
      q[static_cast<std::size_t>(h) * head_dim_ + i] = static_cast<int8_t>(std::nearbyint(xh[i] * inv));
    }
    static_cast<float*>(scales_.data())[row * heads_ + h] = max_abs / 127.0f;
  }
}

KvSpan KvRows::at(std::size_t row) const {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  if (format_ == KvFormat::F32)
    return {static_cast<const float*>(values_.data()) + row * width, nullptr, nullptr};
  return {nullptr, static_cast<const int8_t*>(values_.data()) + row * width,
          static_cast<const float*>(scales_.data()) + row * heads_};
}

std::size_t KvRows::row_bytes() const {
  const std::size_t width = static_cast<std::size_t>(heads_) * head_dim_;
  return format_ == KvFormat::F32 ? width * sizeof(float) : width + heads_ * sizeof(float);
}

}  // namespace agentrt::engine::cpu
