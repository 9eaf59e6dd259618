// Rows of keys or values for the CPU backend's KV caches: each row is one position's K (or V) of every KV
// head, [kv_heads * head_dim], stored as fp32, or as int8 with one scale per head (a block of head_dim
// values: x ~ q * scale, scale = max|x| / 127), which takes a quarter of the memory (about 1 + 4 / head_dim
// bytes per value) and of the bytes attention reads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentrt::engine::cpu {

enum class KvFormat { F32, Int8 };

// `count` rows stored back to back, as attention reads them: exactly one of f32 / i8 is set; scale [count,
// kv_heads] with i8.
struct KvSpan {
  const float* f32 = nullptr;
  const int8_t* i8 = nullptr;
  const float* scale = nullptr;
};

// Anonymous memory that grows in place or by moving its pages (mremap), never by copying: a cache that
// doubles does not hold its old and new copies at once. Untouched pages cost no memory.
class GrowableBuffer {
 public:
  GrowableBuffer() = default;
  ~GrowableBuffer();
  GrowableBuffer(GrowableBuffer&& other) noexcept;
  GrowableBuffer& operator=(GrowableBuffer&& other) noexcept;
  GrowableBuffer(const GrowableBuffer&) = delete;
  GrowableBuffer& operator=(const GrowableBuffer&) = delete;
  // At least `bytes` long, keeping the contents; throws std::bad_alloc.
  void grow(std::size_t bytes);
  void* data() const { return data_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

class KvRows {
 public:
  KvRows(KvFormat format, int kv_heads, int head_dim)
      : format_(format), heads_(kv_heads), head_dim_(head_dim) {}
  // Room for at least `rows` rows, keeping those written (uninitialised beyond them: a row is read only after it
  // was written).
  void reserve(std::size_t rows);
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
  GrowableBuffer values_;  // fp32 or int8 [rows, kv_heads * head_dim]
  GrowableBuffer scales_;  // int8 only: fp32 [rows, kv_heads]
};

}  // namespace agentrt::engine::cpu
