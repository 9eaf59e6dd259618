// Quantized weights for the GPU. The conversion itself (round to nearest at load, or a quantized checkpoint's
// tensors unpacked and checked) is the CPU backend's CpuWeights, so that both backends multiply by the same
// integers; this file only re-lays its matrices out for the GPU kernels (kernels.h Int8Weights/Int4Weights)
// and uploads them.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/cpu/cpu_weights.h"
#include "engine/cpu/thread_pool.h"
#include "engine/cuda/cuda_weights.h"
#include "engine/dtype.h"

namespace agentrt::engine::cuda {
namespace {

using kernels::bf16;
constexpr int kRowsPerTask = 256;

// A [rows, cols] matrix in the GPU layout, on the host before its upload.
struct HostLinear {
  GpuWeights format = GpuWeights::Int8;
  int rows = 0;
  int cols = 0;
  std::vector<int8_t> q8;          // Int8 [rows, cols]
  std::vector<uint32_t> q4;        // Int4 [rows, cols / 8]
  std::vector<float> scales;       // Int8 [rows]; Int4 [rows, groups]
  std::vector<float> zero_scales;  // Int4 [rows, groups]

  HostLinear(GpuWeights f, int r, int c) : format(f), rows(r), cols(c) {
    const auto n = static_cast<std::size_t>(r) * c;
    if (f == GpuWeights::Int8) {
      q8.resize(n);
      scales.resize(r);
    } else {
      const auto groups = static_cast<std::size_t>(r) * (c / kernels::kInt4Group);
      q4.resize(n / 8);
      scales.resize(groups);
      zero_scales.resize(groups);
    }
  }
  int groups() const { return cols / kernels::kInt4Group; }
};

// Rows of a CPU matrix (cpu/kernels.h layouts: int8 biased by 128 with a row stride; int4 as two nibbles of
// inputs j and 64 + j per byte of a group, fp16 scales, uint8 zeros) into `out` from row `at` on.
void repack(const cpu::WeightMatrix& m, HostLinear& out, int at, cpu::ThreadPool& pool) {
  const bool int8 = out.format == GpuWeights::Int8;
  if (m.format != (int8 ? cpu::WeightFormat::Int8 : cpu::WeightFormat::Int4) || m.cols != out.cols ||
      at + m.rows > out.rows) {
    throw std::logic_error("repacking a quantized matrix: formats or shapes disagree");
  }
  const auto* data = static_cast<const uint8_t*>(m.data);
  const int tasks = (m.rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.run(tasks, [&](int task, int) {
    const int end = std::min(m.rows, (task + 1) * kRowsPerTask);
    for (int r = task * kRowsPerTask; r < end; ++r) {
      const std::size_t dst = static_cast<std::size_t>(at + r);
      if (int8) {
        const uint8_t* row = data + static_cast<std::size_t>(r) * m.row_stride;
        int8_t* q = out.q8.data() + dst * out.cols;
        for (int k = 0; k < out.cols; ++k) q[k] = static_cast<int8_t>(static_cast<int>(row[k]) - 128);
        out.scales[dst] = m.scales[r];
        continue;
      }
      const int groups = out.groups();
      for (int g = 0; g < groups; ++g) {
        const uint8_t* bytes = data + (static_cast<std::size_t>(r) * groups + g) * 64;
        uint32_t* words = out.q4.data() + (dst * out.cols + static_cast<std::size_t>(g) * 128) / 8;
        for (int t = 0; t < 16; ++t) {
          uint32_t word = 0;
          for (int i = 0; i < 8; ++i) {
            const int k = 8 * t + i;  // input within the group
            const uint32_t q = k < 64 ? bytes[k] & 15u : bytes[k - 64] >> 4;
            word |= q << (4 * i);
          }
          words[t] = word;
        }
        const std::size_t at_group = static_cast<std::size_t>(r) * groups + g;
        const float scale = f16_to_f32(m.group_scales[at_group]);
        out.scales[dst * groups + g] = scale;
        out.zero_scales[dst * groups + g] = static_cast<float>(m.group_zeros[at_group]) * scale;
      }
    }
  });
}

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& host, const std::string& what) {
  DeviceBuffer<T> out(host.size(), what);
  check_cuda(cudaMemcpy(out.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
             "uploading " + what);
  return out;
}

DeviceLinear upload(const HostLinear& h, const std::string& what) {
  DeviceLinear out;
  out.format = h.format;
  out.rows = h.rows;
  out.cols = h.cols;
  if (h.format == GpuWeights::Int8) {
    out.q8 = to_device(h.q8, what);
  } else {
    out.q4 = to_device(h.q4, what);
    out.zero_scales = to_device(h.zero_scales, what);
  }
  out.scales = to_device(h.scales, what);
  return out;
}

DeviceLinear upload(const cpu::WeightMatrix& m, GpuWeights format, cpu::ThreadPool& pool,
                    const std::string& what) {
  HostLinear h(format, m.rows, m.cols);
  repack(m, h, 0, pool);
  return upload(h, what);
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform integers over the format's whole range; scales such that weights span about +-0.02.
DeviceLinear random_linear(GpuWeights format, int rows, int cols, uint64_t seed, cpu::ThreadPool& pool,
                           const std::string& what) {
  HostLinear h(format, rows, cols);
  const int tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.run(tasks, [&](int task, int) {
    uint64_t state = seed * 0x100000001b3ull + static_cast<uint64_t>(task);
    const std::size_t first = static_cast<std::size_t>(task) * kRowsPerTask;
    const std::size_t end = std::min<std::size_t>(rows, first + kRowsPerTask);
    if (format == GpuWeights::Int8) {
      for (std::size_t i = first * cols; i < end * cols; i += 8) {
        const uint64_t bits = splitmix64(state);
        std::memcpy(h.q8.data() + i, &bits, std::min<std::size_t>(8, end * cols - i));
      }
      std::fill(h.scales.begin() + first, h.scales.begin() + end, 0.02f / 127.0f);
    } else {
      for (std::size_t i = first * cols / 8; i < end * cols / 8; ++i)
        h.q4[i] = static_cast<uint32_t>(splitmix64(state));
      const std::size_t g0 = first * h.groups(), g1 = end * h.groups();
      std::fill(h.scales.begin() + g0, h.scales.begin() + g1, 0.02f / 7.5f);
      std::fill(h.zero_scales.begin() + g0, h.zero_scales.begin() + g1, 8 * 0.02f / 7.5f);
    }
  });
  return upload(h, what);
}

}  // namespace

DeviceWeights upload_quantized_weights(const Checkpoint& checkpoint, GpuWeights format, cudaStream_t stream) {
  if (format == GpuWeights::Bf16) throw std::logic_error("upload_quantized_weights: a quantized format");
  const ModelConfig& c = checkpoint.config();
  cpu::ThreadPool pool;
  cpu::CpuWeightOptions options;
  options.linear = format == GpuWeights::Int8 ? cpu::WeightFormat::Int8 : cpu::WeightFormat::Int4;
  options.head = cpu::WeightFormat::Int8;
  const cpu::CpuWeights converted(checkpoint, options, pool);
  const ModelWeights& w = checkpoint.weights();
  DeviceWeights out;
  out.format = format;
  out.embeddings = upload_matrix_bf16(w.tok_embeddings, stream);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const cpu::CpuLayerWeights& m = converted.layer(l);
    const std::string name = "layer " + std::to_string(l);
    DeviceLayer layer;
    layer.attention_norm = upload_vector_f32(w.layers[l].attention_norm, stream);
    layer.ffn_norm = upload_vector_f32(w.layers[l].ffn_norm, stream);
    layer.wqkv = upload(m.wqkv, format, pool, name + " wqkv");
    layer.wo = upload(m.wo, format, pool, name + " wo");
    HostLinear w13(format, 2 * c.intermediate_size, c.hidden_size);
    repack(m.w1, w13, 0, pool);
    repack(m.w3, w13, c.intermediate_size, pool);
    layer.w13 = upload(w13, name + " w1 + w3");
    layer.w2 = upload(m.w2.front(), format, pool, name + " w2");  // quantized: one block, never column blocks
    out.layers.push_back(std::move(layer));
  }
  out.norm = upload_vector_f32(w.norm, stream);
  out.output = upload(converted.output(), GpuWeights::Int8, pool, "the output head");
  check_cuda(cudaStreamSynchronize(stream), "uploading the weights");
  return out;
}

DeviceWeights random_quantized_weights(const ModelConfig& c, GpuWeights format, uint64_t seed,
                                       cudaStream_t stream) {
  if (format == GpuWeights::Bf16) throw std::logic_error("random_quantized_weights: a quantized format");
  cpu::ThreadPool pool;
  uint64_t next = seed * 7919ull;
  const auto norm = [&](const std::string& what) {
    DeviceBuffer<float> buffer(c.hidden_size, what);
    check_cuda(kernels::fill_random_f32(buffer.get(), c.hidden_size, 0.9f, 1.1f, ++next, stream), what);
    return buffer;
  };
  DeviceWeights out;
  out.format = format;
  const int64_t embedding_elements = static_cast<int64_t>(c.vocab_size) * c.hidden_size;
  out.embeddings = DeviceBuffer<bf16>(static_cast<std::size_t>(embedding_elements), "random embeddings");
  check_cuda(kernels::fill_random_bf16(out.embeddings.get(), embedding_elements, 0.02f, ++next, stream),
             "random embeddings");
  out.norm = norm("random final norm");
  const int h = c.hidden_size, ff = c.intermediate_size, q_dim = c.num_attention_heads * c.head_dim();
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    DeviceLayer layer;
    layer.attention_norm = norm("random attention norm");
    layer.ffn_norm = norm("random ffn norm");
    layer.wqkv = random_linear(format, c.qkv_rows(), h, ++next, pool, "random wqkv");
    layer.wo = random_linear(format, h, q_dim, ++next, pool, "random wo");
    layer.w13 = random_linear(format, 2 * ff, h, ++next, pool, "random w1 + w3");
    layer.w2 = random_linear(format, h, ff, ++next, pool, "random w2");
    out.layers.push_back(std::move(layer));
  }
  out.output = random_linear(GpuWeights::Int8, c.vocab_size, h, ++next, pool, "random output head");
  check_cuda(cudaStreamSynchronize(stream), "making random weights");
  return out;
}

}  // namespace agentrt::engine::cuda
