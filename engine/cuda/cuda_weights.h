// The model's weights on the GPU, uploaded once: the linear layers as bf16 (converted on the host from
// fp16/fp32 checkpoints) or quantized (W8A16 / W4A16 in the kernels' layouts, kernels.h), norm weights as
// fp32, w1 and w3 stacked into one [2 * intermediate, hidden] matrix so the gate and up products are one
// product. Or random weights of a config's shape (benchmarks of shapes nobody has on disk).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/cuda/cuda_plan.h"
#include "engine/cuda/device_memory.h"
#include "kernels/kernels.h"

namespace agentrt::engine::cuda {

// One linear layer's [rows, cols] matrix (HF nn.Linear: out x in) in one of the GpuWeights formats.
struct DeviceLinear {
  GpuWeights format = GpuWeights::Bf16;
  int rows = 0;
  int cols = 0;
  DeviceBuffer<kernels::bf16> dense;  // Bf16: [rows, cols]
  DeviceBuffer<int8_t> q8;            // Int8: [rows, cols]
  DeviceBuffer<uint32_t> q4;          // Int4: [rows, cols / 8], eight consecutive inputs per word
  DeviceBuffer<float> scales;         // Int8: [rows]; Int4: [rows, cols / kInt4Group]
  DeviceBuffer<float> zero_scales;    // Int4: [rows, cols / kInt4Group], zero point x scale

  bool empty() const { return rows == 0; }
  kernels::Int8Weights int8() const { return {q8.get(), scales.get(), rows, cols}; }
  kernels::Int4Weights int4() const { return {q4.get(), scales.get(), zero_scales.get(), rows, cols}; }
};

struct DeviceLayer {
  DeviceBuffer<float> attention_norm;  // [hidden]
  DeviceLinear wqkv;                   // [qkv_rows, hidden], packed as in the checkpoint (qkv_layout.h)
  DeviceLinear wo;                     // [hidden, heads * head_dim]
  DeviceBuffer<float> ffn_norm;        // [hidden]
  DeviceLinear w13;                    // [2 * intermediate, hidden]: w1 (gate) rows, then w3 (up) rows
  DeviceLinear w2;                     // [hidden, intermediate]
};

struct DeviceWeights {
  GpuWeights format = GpuWeights::Bf16;    // of the layers' linear matrices
  DeviceBuffer<kernels::bf16> embeddings;  // [vocab, hidden]
  std::vector<DeviceLayer> layers;
  DeviceBuffer<float> norm;  // [hidden]
  // [vocab, hidden]: bf16 (empty when tied: the embeddings are the head) or, with quantized layers, int8.
  DeviceLinear output;
};

// One tensor to the device as bf16 (a matrix, converted from fp16/fp32) or fp32 (a norm).
DeviceBuffer<kernels::bf16> upload_matrix_bf16(const TensorView& t, cudaStream_t stream);
DeviceBuffer<float> upload_vector_f32(const TensorView& t, cudaStream_t stream);

// Copies the checkpoint's weights to the current device through a pinned staging buffer, as bf16.
DeviceWeights upload_weights(const Checkpoint& checkpoint, cudaStream_t stream);
// Uniform random matrices (scale 0.02) and norms near 1, from `seed`, made on the GPU (bf16).
DeviceWeights random_weights(const ModelConfig& config, uint64_t seed, cudaStream_t stream);

// The checkpoint's linear layers quantized (`format` Int8 or Int4; a dense checkpoint is quantized at load
// by the same round-to-nearest code as the CPU backend's, a quantized one repacked exactly as published) and
// the output head in int8. Throws std::invalid_argument when the checkpoint is quantized in the other format.
DeviceWeights upload_quantized_weights(const Checkpoint& checkpoint, GpuWeights format, cudaStream_t stream);
// Random quantized weights of `config`'s shape (values uniform over the format's range, scales giving
// weights of about +-0.02), made on the host from `seed`.
DeviceWeights random_quantized_weights(const ModelConfig& config, GpuWeights format, uint64_t seed,
                                       cudaStream_t stream);

}  // namespace agentrt::engine::cuda
