// Rows of keys or values for the CPU backend's KV caches: each row is one position's K (or V) of every KV
// head, [kv_heads * head_dim], stored as fp32, or as int8 with one scale per head (a block of head_dim
// values: x ~ q * scale, scale = max|x| / 127), which takes a quarter of the memory (about 1 + 4 / head_dim
// bytes per value) and of the bytes attention reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace agentrt::engine::cpu {

enum class KvFormat { F32, Int8 };

// `count` rows stored back to back, as attention reads them: exactly one of f32 / i8 is set; scale [count,
// kv_heads] with i8.
struct KvSpan {
  const float* f32 = nullptr;
  const int8_t* i8 = nullptr;
  const float* scale = nullptr;
};

class KvRows {
 public:
  KvRows(KvFormat format, int kv_heads, int head_dim)
      : format_(format), heads_(kv_heads), head_dim_(head_dim) {}
  // Room for `rows` rows, keeping the first `keep` (uninitialised beyond them: a row is read only after it
  // was written, and untouched pages of a large pool cost no memory).
  void resize(std::size_t rows, std::size_t keep);
  // Writes row `row` from x [kv_heads * head_dim] fp32.
  void store(std::size_t row, const float* x);
  KvSpan at(std::size_t row) const;
  // Bytes one row takes.
  std::size_t row_bytes() const;
  KvFormat format() const { return format_; }

 private:
  KvFormat format_;
  int heads_;
  int head_dim_;
  std::size_t rows_ = 0;
  std::unique_ptr<float[]> f32_;
  std::unique_ptr<int8_t[]> i8_;
  std::unique_ptr<float[]> scale_;
};

}  // namespace agentrt::engine::cpu
