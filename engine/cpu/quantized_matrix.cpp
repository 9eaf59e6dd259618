#include "engine/cpu/quantized_matrix.h"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace agentrt::engine::cpu {
namespace {

constexpr std::size_t kHugePage = 2u << 20;

}  // namespace

PageBuffer::PageBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  if (bytes >= kHugePage) ::madvise(mapped, bytes, MADV_HUGEPAGE);
  data_ = static_cast<uint8_t*>(mapped);
}

PageBuffer::~PageBuffer() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

QuantizedMatrix::QuantizedMatrix(WeightFormat format, int rows, int cols) {
  if (format == WeightFormat::Dense) throw std::invalid_argument("QuantizedMatrix: not a quantized format");
  if (rows <= 0 || cols <= 0) throw std::invalid_argument("QuantizedMatrix: empty matrix");
  view_.format = format;
  view_.rows = rows;
  view_.cols = cols;
  const int groups = view_.groups();
  if (format == WeightFormat::Int8) {
    view_.row_stride = groups * kQuantGroup;
    data_ = PageBuffer(static_cast<std::size_t>(rows) * view_.row_stride);
    // Padding past cols holds q = 0 (byte 128).
    std::memset(data_.data(), 128, data_.size());
    scales_.assign(rows, 0.0f);
  } else {
    if (cols % kQuantGroup != 0) {
      throw std::invalid_argument("int4 weights need in_features divisible by " +
                                  std::to_string(kQuantGroup) + ", got " + std::to_string(cols));
    }
    data_ = PageBuffer(static_cast<std::size_t>(rows) * groups * (kQuantGroup / 2));
    group_scales_.assign(static_cast<std::size_t>(rows) * groups, 0);
    group_zeros_.assign(group_scales_.size(), 0);
    view_.group_scales = group_scales_.data();
    view_.group_zeros = group_zeros_.data();
  }
  view_.data = data_.data();
  if (format == WeightFormat::Int8) view_.scales = scales_.data();
}

void QuantizedMatrix::set_int8_row(int row, const int8_t* q, float scale) {
  uint8_t* out = data_.data() + static_cast<std::size_t>(row) * view_.row_stride;
  for (int k = 0; k < view_.cols; ++k) out[k] = static_cast<uint8_t>(static_cast<int>(q[k]) + 128);
  scales_[row] = scale;
}

void QuantizedMatrix::set_int4_row(int row, const uint8_t* q, const uint8_t* zeros, const float* scales) {
  const int groups = view_.groups();
  uint8_t* out = data_.data() + static_cast<std::size_t>(row) * groups * (kQuantGroup / 2);
  for (int g = 0; g < groups; ++g) {
    const uint8_t* qg = q + g * kQuantGroup;
    uint8_t* bytes = out + g * (kQuantGroup / 2);
    for (int j = 0; j < kQuantGroup / 2; ++j) {
      bytes[j] = static_cast<uint8_t>((qg[j] & 15) | ((qg[j + kQuantGroup / 2] & 15) << 4));
    }
    const std::size_t at = static_cast<std::size_t>(row) * groups + g;
    group_scales_[at] = f32_to_f16(scales[g]);
    group_zeros_[at] = static_cast<uint8_t>(zeros[g] & 15);
  }
}

}  // namespace agentrt::engine::cpu
