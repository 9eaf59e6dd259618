// `agentrt bench --backend cuda`: the device's two ceilings measured in the same run (device-to-device copy
// bandwidth, bf16 GEMM rate) and the backend's decode and prefill speed as fractions of them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/cuda/cuda_plan.h"

namespace agentrt::engine::cuda {

struct CudaBenchOptions {
  std::vector<int> decode_batches{1, 8, 32, 64};
  std::vector<int> prefill_lengths{512, 2048, 8192};
  int decode_context = 512;  // prompt length of each sequence before the timed decode steps
  int decode_steps = 64;
  int repeats = 3;  // of each prefill; the median is reported
  CudaBackendOptions backend;
};

// Bytes per second of a large cudaMemcpy device-to-device (bytes read + bytes written), median of several.
double measure_copy_bandwidth(int device);
// FLOP per second of a cuBLASLt bf16 product of n x n by n x n, median of several.
double measure_gemm_rate(int device, int n = 8192);

// Runs the whole benchmark on random weights of `config` made on the GPU (no checkpoint on disk), or on the
// checkpoint in `model_dir` when it is not empty.
nlohmann::ordered_json run_cuda_bench(const ModelConfig& config, const std::filesystem::path& model_dir,
                                      const CudaBenchOptions& options);

}  // namespace agentrt::engine::cuda
