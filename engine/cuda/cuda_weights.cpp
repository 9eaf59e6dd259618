#include "engine/cuda/cuda_weights.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/dtype.h"

namespace agentrt::engine::cuda {
namespace {

using kernels::bf16;

constexpr std::size_t kStagingElements = 16u << 20;  // 32 MiB of bf16 per copy

// Converts `count` elements of `t` from element `first` on into bf16 bits.
void to_bf16(const TensorView& t, std::size_t first, std::size_t count, uint16_t* out) {
  const auto* bytes = static_cast<const unsigned char*>(t.data);
  switch (t.dtype) {
    case DType::BF16:
      std::memcpy(out, bytes + first * 2, count * 2);
      return;
    case DType::F16: {
      const auto* in = reinterpret_cast<const uint16_t*>(bytes) + first;
      for (std::size_t i = 0; i < count; ++i) out[i] = f32_to_bf16(f16_to_f32(in[i]));
      return;
    }
    case DType::F32: {
      const auto* in = reinterpret_cast<const float*>(bytes) + first;
      for (std::size_t i = 0; i < count; ++i) out[i] = f32_to_bf16(in[i]);
      return;
    }
    case DType::I8:
    case DType::I32:
      throw std::invalid_argument("tensor '" + t.name + "': the CUDA backend uploads dense weights only");
  }
}

float to_f32(const TensorView& t, std::size_t i) {
  const auto* bytes = static_cast<const unsigned char*>(t.data);
  uint16_t half = 0;
  switch (t.dtype) {
    case DType::BF16:
      std::memcpy(&half, bytes + i * 2, 2);
      return bf16_to_f32(half);
    case DType::F16:
      std::memcpy(&half, bytes + i * 2, 2);
      return f16_to_f32(half);
    case DType::F32: {
      float value = 0;
      std::memcpy(&value, bytes + i * 4, 4);
      return value;
    }
    case DType::I8:
    case DType::I32:
      break;
  }
  return 0.0f;
}

class Uploader {
 public:
  explicit Uploader(cudaStream_t stream)
      : stream_(stream), staging_(kStagingElements, "weight staging buffer") {}

  // Copies tensor `t` into `dst` (bf16), chunk by chunk through the pinned buffer.
  void matrix(const TensorView& t, bf16* dst) {
    const auto n = static_cast<std::size_t>(t.numel());
    for (std::size_t first = 0; first < n; first += kStagingElements) {
      const std::size_t count = std::min(kStagingElements, n - first);
      // The staging buffer is refilled only after the previous copy out of it has finished.
      check_cuda(cudaStreamSynchronize(stream_), "uploading " + t.name);
      to_bf16(t, first, count, staging_.get());
      check_cuda(cudaMemcpyAsync(dst + first, staging_.get(), count * 2, cudaMemcpyHostToDevice, stream_),
                 "uploading " + t.name);
    }
  }
  DeviceBuffer<bf16> matrix(const TensorView& t) {
    DeviceBuffer<bf16> buffer(static_cast<std::size_t>(t.numel()), t.name);
    matrix(t, buffer.get());
    return buffer;
  }
  DeviceLinear linear(const TensorView& t) {
    DeviceLinear out;
    out.rows = static_cast<int>(t.shape.at(0));
    out.cols = static_cast<int>(t.shape.at(1));
    out.dense = matrix(t);
    return out;
  }
  DeviceBuffer<float> vector(const TensorView& t) {
    std::vector<float> host(static_cast<std::size_t>(t.numel()));
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = to_f32(t, i);
    DeviceBuffer<float> buffer(host.size(), t.name);
    check_cuda(cudaMemcpy(buffer.get(), host.data(), host.size() * 4, cudaMemcpyHostToDevice),
               "uploading " + t.name);
    return buffer;
  }
  void finish() { check_cuda(cudaStreamSynchronize(stream_), "uploading the weights"); }

 private:
  cudaStream_t stream_;
  PinnedBuffer<uint16_t> staging_;
};

}  // namespace

DeviceBuffer<bf16> upload_matrix_bf16(const TensorView& t, cudaStream_t stream) {
  Uploader up(stream);
  DeviceBuffer<bf16> out = up.matrix(t);
  up.finish();
  return out;
}

DeviceBuffer<float> upload_vector_f32(const TensorView& t, cudaStream_t stream) {
  return Uploader(stream).vector(t);
}

DeviceWeights upload_weights(const Checkpoint& checkpoint, cudaStream_t stream) {
  const ModelWeights& w = checkpoint.weights();
  const ModelConfig& c = checkpoint.config();
  Uploader up(stream);
  DeviceWeights out;
  out.embeddings = up.matrix(w.tok_embeddings);
  for (const LayerWeights& lw : w.layers) {
    DeviceLayer layer;
    layer.attention_norm = up.vector(lw.attention_norm);
    layer.wqkv = up.linear(lw.wqkv);
    layer.wo = up.linear(lw.wo);
    layer.ffn_norm = up.vector(lw.ffn_norm);
    layer.w13.rows = 2 * c.intermediate_size;
    layer.w13.cols = c.hidden_size;
    layer.w13.dense = DeviceBuffer<bf16>(2 * static_cast<std::size_t>(lw.w1.numel()), lw.w1.name + " + w3");
    up.matrix(lw.w1, layer.w13.dense.get());
    up.matrix(lw.w3, layer.w13.dense.get() + lw.w1.numel());
    layer.w2 = up.linear(lw.w2);
    out.layers.push_back(std::move(layer));
  }
  out.norm = up.vector(w.norm);
  if (!c.tie_word_embeddings) out.output = up.linear(w.output);
  up.finish();
  return out;
}

DeviceWeights random_weights(const ModelConfig& c, uint64_t seed, cudaStream_t stream) {
  const std::size_t h = c.hidden_size, ff = c.intermediate_size, vocab = c.vocab_size;
  const std::size_t q_dim = static_cast<std::size_t>(c.num_attention_heads) * c.head_dim();
  uint64_t next_seed = seed * 1000003ull;
  const auto matrix = [&](std::size_t n, const std::string& what) {
    DeviceBuffer<bf16> buffer(n, what);
    check_cuda(kernels::fill_random_bf16(buffer.get(), static_cast<int64_t>(n), 0.02f, ++next_seed, stream),
               what);
    return buffer;
  };
  const auto linear = [&](std::size_t rows, std::size_t cols, const std::string& what) {
    DeviceLinear out;
    out.rows = static_cast<int>(rows);
    out.cols = static_cast<int>(cols);
    out.dense = matrix(rows * cols, what);
    return out;
  };
  const auto norm = [&](const std::string& what) {
    DeviceBuffer<float> buffer(h, what);
    check_cuda(
        kernels::fill_random_f32(buffer.get(), static_cast<int64_t>(h), 0.9f, 1.1f, ++next_seed, stream),
        what);
    return buffer;
  };
  DeviceWeights out;
  out.embeddings = matrix(vocab * h, "random embeddings");
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    DeviceLayer layer;
    layer.attention_norm = norm("random attention norm");
    layer.wqkv = linear(static_cast<std::size_t>(c.qkv_rows()), h, "random wqkv");
    layer.wo = linear(h, q_dim, "random wo");
    layer.ffn_norm = norm("random ffn norm");
    layer.w13 = linear(2 * ff, h, "random w1 + w3");
    layer.w2 = linear(h, ff, "random w2");
    out.layers.push_back(std::move(layer));
  }
  out.norm = norm("random final norm");
  if (!c.tie_word_embeddings) out.output = linear(vocab, h, "random output");
  check_cuda(cudaStreamSynchronize(stream), "making random weights");
  return out;
}

}  // namespace agentrt::engine::cuda
