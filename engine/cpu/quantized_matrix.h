// Int8/int4 weight matrices in the CPU kernels' layouts (kernels.h), owned: filled row by row from a
// quantizer (dense weights converted at load) or from a quantized checkpoint's tensors. The packed bytes
// live in 64-byte aligned memory, on transparent huge pages when large (fewer TLB misses while decode
// streams them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {

// Anonymous memory from mmap (huge pages advised at 2 MiB and more), zero-filled.
class PageBuffer {
 public:
  PageBuffer() = default;
  explicit PageBuffer(std::size_t bytes);
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

class QuantizedMatrix {
 public:
  // format Int8 or Int4 (then cols must be a multiple of kQuantGroup: std::invalid_argument otherwise).
  QuantizedMatrix(WeightFormat format, int rows, int cols);

  // Int8: q [cols] in [-128, 127] and the row's scale.
  void set_int8_row(int row, const int8_t* q, float scale);
  // Int4: q [cols] in [0, 15], per group zero in [0, 15] and scale [groups] (rounded to fp16).
  void set_int4_row(int row, const uint8_t* q, const uint8_t* zeros, const float* scales);

  const WeightMatrix& view() const { return view_; }
  // Bytes held (packed weights and scales).
  std::size_t bytes() const { return view_.bytes(); }

 private:
  PageBuffer data_;
  std::vector<float> scales_;           // Int8 [rows]
  std::vector<uint16_t> group_scales_;  // Int4 fp16 [rows, groups]
  std::vector<uint8_t> group_zeros_;    // Int4 [rows, groups]
  WeightMatrix view_;
};

}  // namespace agentrt::engine::cpu
