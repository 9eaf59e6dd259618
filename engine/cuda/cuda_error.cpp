#include "engine/cuda/cuda_error.h"

#include <cstdio>

namespace agentrt::engine::cuda {

std::string gib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

void check_cuda(cudaError_t status, const std::string& what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky launch error so the next check reports its own call
  if (status == cudaErrorMemoryAllocation) {
    size_t free_bytes = 0, total_bytes = 0;
    std::string free_text;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
      free_text = " (" + gib(free_bytes) + " of " + gib(total_bytes) + " free)";
    throw CudaError("out of GPU memory in " + what + free_text, status);
  }
  throw CudaError(
      "CUDA error in " + what + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")",
      status);
}

}  // namespace agentrt::engine::cuda
