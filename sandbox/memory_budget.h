// The memory cap of one session: the Lua allocator and the C++ data frames draw from the same budget.
#pragma once

#include <cstddef>
#include <cstdlib>

namespace agentrt::sandbox {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit) : limit_(limit) {}

  std::size_t used() const { return used_; }
  std::size_t limit() const { return limit_; }

  // Reserves `bytes`; false (and nothing reserved) when that would pass the cap.
  bool try_charge(std::size_t bytes) {
    if (bytes > limit_ - used_) return false;
    used_ += bytes;
    return true;
  }
  void release(std::size_t bytes) { used_ = bytes > used_ ? 0 : used_ - bytes; }

  // lua_Alloc: refuses growth past the cap (Lua then raises "not enough memory"); shrinking never fails, as
  // Lua requires. When `ptr` is null, `old_size` is a type tag, not a size.
  static void* lua_alloc(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
    auto* self = static_cast<MemoryBudget*>(ud);
    const std::size_t old_bytes = ptr ? old_size : 0;
    if (new_size == 0) {
      std::free(ptr);
      self->release(old_bytes);
      return nullptr;
    }
    if (new_size > old_bytes && !self->try_charge(new_size - old_bytes)) return nullptr;
    void* out = std::realloc(ptr, new_size);
    if (out == nullptr) {
      if (new_size <= old_bytes) return ptr;  // the old block is still valid and large enough
      self->release(new_size - old_bytes);
      return nullptr;
    }
    if (new_size < old_bytes) self->release(old_bytes - new_size);
    return out;
  }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
};

}  // namespace agentrt::sandbox
