// Errors of the CUDA backend: every CUDA call's status is checked and turned into an exception that says what
// was being done, with a plain message for running out of GPU memory.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace agentrt::engine::cuda {

class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& what, cudaError_t code) : std::runtime_error(what), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

// Throws CudaError "CUDA error in <what>: <name> (<description>)"; for cudaErrorMemoryAllocation the message
// says the GPU is out of memory and how much is free.
void check_cuda(cudaError_t status, const std::string& what);

// "3.50 GiB"
std::string gib(uint64_t bytes);

}  // namespace agentrt::engine::cuda
