#include "engine/cpu/cpu_weights.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "engine/dtype.h"
#include "engine/mapped_file.h"
#include "engine/quantize.h"

namespace agentrt::engine::cpu {
namespace {

const char* format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::Int8:
      return "int8";
    case WeightFormat::Int4:
      return "int4";
    case WeightFormat::Dense:
      break;
  }
  return "dense";
}

}  // namespace

WeightMatrix dense_matrix(const TensorView& t) {
  WeightMatrix w;
  w.data = t.data;
  w.dtype = t.dtype;
  w.rows = t.shape.size() > 1 ? static_cast<int>(t.shape[0]) : 1;
  w.cols = t.shape.size() > 1 ? static_cast<int>(t.shape[1]) : static_cast<int>(t.numel());
  return w;
}

std::unique_ptr<QuantizedMatrix> repack_quantized(const QuantizedLinear& q, QuantMethod method, int rows,
                                                  int cols, ThreadPool& pool) {
  if (method == QuantMethod::Awq) {
    auto matrix = std::make_unique<QuantizedMatrix>(WeightFormat::Int4, rows, cols);
    QuantizedMatrix& m = *matrix;
    const int groups = m.view().groups();
    // Eight output rows share each packed int32: unpack them together.
    const auto* qweight = static_cast<const int32_t*>(q.qweight.data);
    const auto* qzeros = static_cast<const int32_t*>(q.qzeros.data);
    const auto* scales = static_cast<const uint16_t*>(q.scales.data);
    pool.run(rows / 8, [&](int c, int) {
      std::vector<uint8_t> qs(static_cast<std::size_t>(8) * cols),
          zeros(static_cast<std::size_t>(8) * groups);
      std::vector<uint16_t> half(static_cast<std::size_t>(8) * groups);
      std::vector<float> s(groups);
      unpack_awq_rows(qweight, qzeros, scales, rows, cols, c, qs.data(), zeros.data(), half.data());
      for (int j = 0; j < 8; ++j) {
        for (int g = 0; g < groups; ++g) s[g] = f16_to_f32(half[static_cast<std::size_t>(j) * groups + g]);
        m.set_int4_row(8 * c + j, qs.data() + static_cast<std::size_t>(j) * cols,
                       zeros.data() + static_cast<std::size_t>(j) * groups, s.data());
      }
    });
    return matrix;
  }
  auto matrix = std::make_unique<QuantizedMatrix>(WeightFormat::Int8, rows, cols);
  QuantizedMatrix& m = *matrix;
  const auto* qweight = static_cast<const int8_t*>(q.qweight.data);
  pool.run(rows, [&](int r, int) {
    const float scale = q.scales.dtype == DType::F32
                            ? static_cast<const float*>(q.scales.data)[r]
                            : f16_to_f32(static_cast<const uint16_t*>(q.scales.data)[r]);
    m.set_int8_row(r, qweight + static_cast<std::size_t>(r) * cols, scale);
  });
  return matrix;
}

CpuWeights::CpuWeights(const Checkpoint& checkpoint, const CpuWeightOptions& options, ThreadPool& pool)
    : map_weights_(options.map_weights), progress_(options.progress) {
  const ModelWeights& w = checkpoint.weights();
  const QuantMethod method = checkpoint.config().quantization.method;
  linear_ = options.linear;
  if (method == QuantMethod::Awq) {
    if (linear_ == WeightFormat::Int8) {
      throw std::invalid_argument("--weights int8: " + checkpoint.dir().string() +
                                  " is an int4 AWQ checkpoint; it loads as int4 only");
    }
    linear_ = WeightFormat::Int4;
  } else if (method == QuantMethod::Int8) {
    if (linear_ == WeightFormat::Int4) {
      throw std::invalid_argument("--weights int4: " + checkpoint.dir().string() +
                                  " is an int8 checkpoint; it loads as int8 only");
    }
    linear_ = WeightFormat::Int8;
  }
  head_ = linear_ == WeightFormat::Dense ? WeightFormat::Dense : options.head;
  embeddings_ = dense_matrix(w.tok_embeddings);
  dense_dtype_ = std::string(dtype_name(w.tok_embeddings.dtype));

  // Progress counts the dense bytes (or quantized tensors' bytes) each conversion reads.
  const auto source_bytes = [&](const TensorView& dense, const QuantizedLinear& q) -> uint64_t {
    if (q.present()) return q.qweight.bytes + q.qzeros.bytes + q.scales.bytes;
    return dense.bytes;
  };
  // Copied dense matrices count too (a 20B checkpoint's copy takes seconds).
  const bool copies = !map_weights_;
  if (linear_ != WeightFormat::Dense || copies) {
    for (const auto& layer : w.layers) {
      total_ += source_bytes(layer.wqkv, layer.quantized.wqkv) + source_bytes(layer.wo, layer.quantized.wo) +
                source_bytes(layer.w1, layer.quantized.w1) + source_bytes(layer.w3, layer.quantized.w3) +
                source_bytes(layer.w2, layer.quantized.w2);
    }
  }
  if (head_ != WeightFormat::Dense || copies) total_ += w.output.bytes;

  for (const auto& layer : w.layers) {
    CpuLayerWeights out;
    out.wqkv = convert(checkpoint, layer.wqkv, layer.quantized.wqkv, linear_, method, pool);
    out.wo = convert(checkpoint, layer.wo, layer.quantized.wo, linear_, method, pool);
    out.w1 = convert(checkpoint, layer.w1, layer.quantized.w1, linear_, method, pool);
    out.w3 = convert(checkpoint, layer.w3, layer.quantized.w3, linear_, method, pool);
    out.w2 = down_projection(checkpoint, layer.w2, layer.quantized.w2, method, pool);
    layers_.push_back(out);
  }
  output_ = convert(checkpoint, w.output, QuantizedLinear{}, head_, QuantMethod::None, pool);
}

WeightMatrix CpuWeights::convert(const Checkpoint& checkpoint, const TensorView& dense,
                                 const QuantizedLinear& q, WeightFormat format, QuantMethod method,
                                 ThreadPool& pool) {
  if (format == WeightFormat::Dense) return resident(checkpoint, dense, pool);
  const int rows = static_cast<int>(dense.shape[0]), cols = static_cast<int>(dense.shape[1]);
  if (format == WeightFormat::Int4 && cols % kQuantGroup != 0) {
    throw std::invalid_argument("--weights int4: tensor '" + dense.name + "' has " + std::to_string(cols) +
                                " inputs, not a multiple of the group size " + std::to_string(kQuantGroup));
  }
  std::unique_ptr<QuantizedMatrix> matrix;
  if (q.present()) {
    matrix = repack_quantized(q, method, rows, cols, pool);
    // The published tensors are not read again: none of their pages needs to stay in the process.
    for (const TensorView* t : {&q.qweight, &q.qzeros, &q.scales}) MappedFile::release(t->data, t->bytes);
  } else {
    matrix = std::make_unique<QuantizedMatrix>(format, rows, cols);
    QuantizedMatrix& m = *matrix;
    const int groups = m.view().groups();
    // Round to nearest from the dense weights, a block of rows per task.
    const WeightMatrix source = dense_matrix(dense);
    constexpr int kBlock = 64;
    pool.run((rows + kBlock - 1) / kBlock, [&](int task, int) {
      std::vector<float> row(cols);
      std::vector<int8_t> q8(cols);
      std::vector<uint8_t> q4(cols), zeros(groups);
      std::vector<float> scales(groups);
      const int first = task * kBlock, last = std::min(rows, (task + 1) * kBlock);
      for (int r = first; r < last; ++r) {
        convert_row(source, r, row.data());
        if (format == WeightFormat::Int8) {
          m.set_int8_row(r, q8.data(), quantize_int8_row(row, q8));
        } else {
          for (int g = 0; g < groups; ++g) {
            scales[g] = quantize_int4_group(std::span(row).subspan(g * kQuantGroup, kQuantGroup),
                                            std::span(q4).subspan(g * kQuantGroup, kQuantGroup), zeros[g]);
          }
          m.set_int4_row(r, q4.data(), zeros.data(), scales.data());
        }
      }
      // The rows just read are not needed again: let them go now, so the peak stays near the quantized size
      // (an output head of 380 MB in bf16 would otherwise stay resident until the whole tensor is done).
      const std::size_t row_bytes = static_cast<std::size_t>(cols) * dtype_size(dense.dtype);
      MappedFile::release(static_cast<const char*>(dense.data) + first * row_bytes,
                          (last - first) * row_bytes);
    });
    MappedFile::release(dense.data, dense.bytes);
  }
  converted(q.present() ? q.qweight.bytes + q.qzeros.bytes + q.scales.bytes : dense.bytes);
  owned_.push_back(std::move(matrix));
  return owned_.back()->view();
}

WeightMatrix CpuWeights::resident(const Checkpoint& checkpoint, const TensorView& dense, ThreadPool& pool) {
  WeightMatrix m = dense_matrix(dense);
  if (map_weights_ || dense.bytes == 0) return m;
  PageBuffer copy(dense.bytes);
  // Read from the file in pieces of 16 MiB on every thread; pages of the mapping a prefault touched are
  // dropped from the process as their piece is copied.
  constexpr std::size_t kPiece = 16u << 20;
  const auto* from = static_cast<const unsigned char*>(dense.data);
  const int pieces = static_cast<int>((dense.bytes + kPiece - 1) / kPiece);
  pool.run(pieces, [&](int piece, int) {
    const std::size_t begin = static_cast<std::size_t>(piece) * kPiece;
    const std::size_t bytes = std::min(kPiece, dense.bytes - begin);
    checkpoint.copy_bytes(from + begin, bytes, copy.data() + begin);
    MappedFile::release(from + begin, bytes);
  });
  m.data = copy.data();
  copies_.push_back(std::move(copy));
  converted(dense.bytes);
  return m;
}

std::vector<WeightMatrix> CpuWeights::down_projection(const Checkpoint& checkpoint, const TensorView& dense,
                                                      const QuantizedLinear& q, QuantMethod method,
                                                      ThreadPool& pool) {
  const bool blocked = linear_ == WeightFormat::Dense && !map_weights_ && dense.shape.size() == 2 &&
                       dense.shape[1] > kColumnBlockFrom && dense.shape[1] % kColumnBlock == 0;
  if (!blocked) return {convert(checkpoint, dense, q, linear_, method, pool)};
  const int rows = static_cast<int>(dense.shape[0]), cols = static_cast<int>(dense.shape[1]);
  const int blocks = cols / kColumnBlock;
  const std::size_t element = dtype_size(dense.dtype);
  const std::size_t row_bytes = static_cast<std::size_t>(cols) * element;
  const std::size_t piece_bytes = kColumnBlock * element;  // one row's share of a block
  const std::size_t block_bytes = static_cast<std::size_t>(rows) * piece_bytes;
  PageBuffer copy(dense.bytes);  // [blocks][rows, kColumnBlock]
  // Whole rows read from the file a band at a time (as resident() reads, in large pieces), then dealt out
  // to the blocks.
  constexpr int kBand = 64;
  const auto* from = static_cast<const unsigned char*>(dense.data);
  pool.run((rows + kBand - 1) / kBand, [&](int band, int) {
    const int first = band * kBand, last = std::min(rows, first + kBand);
    std::vector<unsigned char> staged(static_cast<std::size_t>(last - first) * row_bytes);
    checkpoint.copy_bytes(from + first * row_bytes, staged.size(), staged.data());
    for (int r = first; r < last; ++r) {
      for (int b = 0; b < blocks; ++b) {
        std::memcpy(copy.data() + b * block_bytes + r * piece_bytes,
                    staged.data() + (r - first) * row_bytes + b * piece_bytes, piece_bytes);
      }
    }
    MappedFile::release(from + first * row_bytes, staged.size());
  });
  std::vector<WeightMatrix> out;
  for (int b = 0; b < blocks; ++b) {
    WeightMatrix m = dense_matrix(dense);
    m.cols = kColumnBlock;
    m.data = copy.data() + b * block_bytes;
    out.push_back(m);
  }
  copies_.push_back(std::move(copy));
  converted(dense.bytes);
  return out;
}

void CpuWeights::converted(uint64_t bytes) {
  done_ += bytes;
  if (progress_) progress_(std::min(done_, total_), total_);
}

uint64_t CpuLayerWeights::w2_bytes() const {
  uint64_t bytes = 0;
  for (const WeightMatrix& block : w2) bytes += block.bytes();
  return bytes;
}

uint64_t CpuWeights::decode_bytes_per_token() const {
  uint64_t bytes = 0;
  for (const auto& l : layers_)
    bytes += l.wqkv.bytes() + l.wo.bytes() + l.w1.bytes() + l.w3.bytes() + l.w2_bytes();
  return bytes + output_.bytes() + embeddings_.bytes() / std::max(1, embeddings_.rows);
}

std::string CpuWeights::summary() const {
  if (linear_ == WeightFormat::Dense) return dense_dtype_;
  std::string out = format_name(linear_);
  if (linear_ == WeightFormat::Int4) out += " (group " + std::to_string(kQuantGroup) + ")";
  out +=
      std::string(" layers, ") + (head_ == WeightFormat::Dense ? dense_dtype_ : format_name(head_)) + " head";
  return out;
}

}  // namespace agentrt::engine::cpu
