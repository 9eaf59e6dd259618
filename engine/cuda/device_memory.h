// Owning handles for GPU memory and pinned host memory (allocation errors name what was being allocated).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "engine/cuda/cuda_error.h"

namespace agentrt::engine::cuda {

struct DeviceAllocator {
  static cudaError_t allocate(void** data, std::size_t bytes) { return cudaMalloc(data, bytes); }
  static void free(void* data) { cudaFree(data); }
  static constexpr const char* kKind = "";
};

// Page-locked host memory: copies from and to it run asynchronously at full PCIe speed.
struct PinnedAllocator {
  static cudaError_t allocate(void** data, std::size_t bytes) { return cudaMallocHost(data, bytes); }
  static void free(void* data) { cudaFreeHost(data); }
  static constexpr const char* kKind = "pinned ";
};

template <typename T, typename Allocator>
class CudaMemory {
 public:
  CudaMemory() = default;
  CudaMemory(std::size_t count, const std::string& what) : count_(count) {
    if (count > 0) {
      check_cuda(Allocator::allocate(reinterpret_cast<void**>(&data_), count * sizeof(T)),
                 std::string("allocating ") + Allocator::kKind + what);
    }
  }
  ~CudaMemory() {
    if (data_ != nullptr) Allocator::free(data_);
  }
  CudaMemory(CudaMemory&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  CudaMemory& operator=(CudaMemory&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  T* get() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

template <typename T>
using DeviceBuffer = CudaMemory<T, DeviceAllocator>;
template <typename T>
using PinnedBuffer = CudaMemory<T, PinnedAllocator>;

}  // namespace agentrt::engine::cuda
