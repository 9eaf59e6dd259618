// The model's weights on the GPU, uploaded once: matrices as bf16 (converted on the host from fp16/fp32
// checkpoints), norm weights as fp32, w1 and w3 stacked into one [2 * intermediate, hidden] matrix so the
// gate and up products are one GEMM. Or random weights of a config's shape, made on the GPU (benchmarks of
// shapes nobody has on disk).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/cuda/device_memory.h"
#include "kernels/kernels.h"

namespace agentrt::engine::cuda {

struct DeviceLayer {
  DeviceBuffer<float> attention_norm;  // [hidden]
  DeviceBuffer<kernels::bf16> wqkv;    // [qkv_rows, hidden], packed as in the checkpoint (qkv_layout.h)
  DeviceBuffer<kernels::bf16> wo;      // [hidden, heads * head_dim]
  DeviceBuffer<float> ffn_norm;        // [hidden]
  DeviceBuffer<kernels::bf16> w13;     // [2 * intermediate, hidden]: w1 (gate) rows, then w3 (up) rows
  DeviceBuffer<kernels::bf16> w2;      // [hidden, intermediate]
};

struct DeviceWeights {
  DeviceBuffer<kernels::bf16> embeddings;  // [vocab, hidden]
  std::vector<DeviceLayer> layers;
  DeviceBuffer<float> norm;            // [hidden]
  DeviceBuffer<kernels::bf16> output;  // [vocab, hidden]; empty when tied (use embeddings)
  const kernels::bf16* output_matrix() const { return output.size() > 0 ? output.get() : embeddings.get(); }
};

// Copies the checkpoint's weights to the current device through a pinned staging buffer.
DeviceWeights upload_weights(const Checkpoint& checkpoint, cudaStream_t stream);
// Uniform random matrices (scale 0.02) and norms near 1, from `seed`.
DeviceWeights random_weights(const ModelConfig& config, uint64_t seed, cudaStream_t stream);

}  // namespace agentrt::engine::cuda
