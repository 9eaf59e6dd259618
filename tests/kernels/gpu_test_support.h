// Shared pieces of the GPU tests: the skip when no GPU is visible, host<->device copies, random bf16 data and
// the relative error every comparison uses (NaN never passes).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/device_memory.h"
#include "kernels/kernels.h"

namespace agentrt::engine::cuda::testing {

// Every GPU test derives from this: it skips cleanly on machines without a GPU.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device_count() == 0) GTEST_SKIP() << "no CUDA GPU visible";
  }
};

// bf16 bits of uniform values in [-scale, scale).
std::vector<uint16_t> random_bf16(std::size_t n, float scale, std::mt19937& rng);
std::vector<float> random_f32(std::size_t n, float lo, float hi, std::mt19937& rng);
std::vector<float> bf16_values(const std::vector<uint16_t>& bits);

// A device copy of `host`; with poison, a buffer of `n` elements filled with 0xff bytes (NaN for floats and
// bf16, -1 for ints), so an element a kernel fails to write shows up.
template <typename T, typename H>
DeviceBuffer<T> to_device(const std::vector<H>& host) {
  static_assert(sizeof(T) == sizeof(H));
  DeviceBuffer<T> buffer(host.size(), "test data");
  check_cuda(cudaMemcpy(buffer.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
             "test upload");
  return buffer;
}
template <typename T>
DeviceBuffer<T> poisoned(std::size_t n) {
  DeviceBuffer<T> buffer(n, "test output");
  check_cuda(cudaMemset(buffer.get(), 0xff, n * sizeof(T)), "test poison");
  return buffer;
}
template <typename H, typename T>
std::vector<H> to_host(const DeviceBuffer<T>& buffer) {
  static_assert(sizeof(T) == sizeof(H));
  check_cuda(cudaDeviceSynchronize(), "test kernels");
  std::vector<H> host(buffer.size());
  check_cuda(cudaMemcpy(host.data(), buffer.get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost),
             "test download");
  return host;
}

// ||out - ref|| / ||ref|| in fp64; infinity when sizes differ, NaN when out holds NaN.
double relative_error(const std::vector<float>& out, const std::vector<float>& ref);

// The largest relative_error over rows of row_size values (e.g. one position's logits), and its row; NaN if
// any row holds NaN.
struct WorstRow {
  double error = 0.0;
  std::size_t row = 0;
};
WorstRow worst_row_error(const std::vector<float>& out, const std::vector<float>& ref, std::size_t row_size);

}  // namespace agentrt::engine::cuda::testing
