// The weight matrices the CPU backend multiplies by: the checkpoint's dense tensors copied into huge-page
// memory (or used in place from the mapped file), or int8/int4 copies in the kernels' layouts, either
// quantized at load from a dense checkpoint (round to nearest: int8 one scale per output row; int4 groups of
// 128 with a zero point, as AutoAWQ computes them) or repacked from a quantized checkpoint (AWQ int4,
// agentrt_int8) exactly as published.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/quantized_matrix.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {

// A copied dense down projection with rows longer than this is kept as column blocks of kColumnBlock
// inputs (CpuLayerWeights::w2). The other matrices are not: their rows are the hidden size, at most 4096 but
// for 20B.
inline constexpr int kColumnBlockFrom = 4096;
inline constexpr int kColumnBlock = 2048;

struct CpuLayerWeights {
  WeightMatrix wqkv, wo, w1, w3;
  // The down projection [hidden, ff] as column blocks: block b is [hidden, cols] of inputs from
  // b * w2.front().cols on, each contiguous, and y = sum over b of block b times its slice of x. One block
  // (the matrix itself) unless dense rows longer than kColumnBlockFrom are copied: then blocks of
  // kColumnBlock, so that decode streams each like a short-row matrix, its slice of x staying in L1 (rows of
  // 8192 took 0.78-0.85 of the read rate when the host's memory was quiet, rows of 2048 0.99-1.02;
  // engine_bench DecodeStreamPaired, docs/engine.md).
  std::vector<WeightMatrix> w2;
  uint64_t w2_bytes() const;
};

struct CpuWeightOptions {
  // The linear layers: Dense keeps what the checkpoint stores (a quantized checkpoint stays quantized); Int8
  // or Int4 quantizes a dense checkpoint at load. Converting a quantized checkpoint to the other format is
  // refused (std::invalid_argument).
  WeightFormat linear = WeightFormat::Dense;
  // The output head when the linear layers are quantized (int8 by default: the head is an eighth of a 1.8B
  // model's bytes per token; Dense keeps it as stored).
  WeightFormat head = WeightFormat::Int8;
  // Dense linear layers and head: false copies them into anonymous memory on transparent huge pages and
  // releases the mapped pages (decode streams 2 MiB pages; on the 2-core Zen 4 machine it ran 1.09x faster
  // than from the file's 4 KiB page-cache pages, docs/engine.md); true uses them in place from the mapping
  // (nothing copied; the page cache is shared with other processes mapping the same file).
  bool map_weights = false;
  // Called as matrices are converted: (bytes done, bytes total).
  LoadProgress progress;
};

class CpuWeights {
 public:
  // Converts on `pool`'s threads; the dense pages a conversion read are released from the process.
  CpuWeights(const Checkpoint& checkpoint, const CpuWeightOptions& options, ThreadPool& pool);

  const CpuLayerWeights& layer(int i) const { return layers_[i]; }
  const WeightMatrix& output() const { return output_; }
  const WeightMatrix& embeddings() const { return embeddings_; }
  // Bytes one decode step reads: every layer's matrices, the output head and one embedding row.
  uint64_t decode_bytes_per_token() const;
  // "BF16", "int4 (group 128) + int8 head", ...
  std::string summary() const;
  // The format of the linear layers in use.
  WeightFormat linear_format() const { return linear_; }

 private:
  WeightMatrix convert(const Checkpoint& checkpoint, const TensorView& dense,
                       const QuantizedLinear& quantized, WeightFormat format, QuantMethod method,
                       ThreadPool& pool);
  // The dense tensor [rows, cols] copied into a PageBuffer (or in place with map_weights).
  WeightMatrix resident(const Checkpoint& checkpoint, const TensorView& dense, ThreadPool& pool);
  // The down projection: column blocks when it is copied dense with long rows, else one converted matrix.
  // Counts `bytes` of the checkpoint as converted and reports progress.
  void converted(uint64_t bytes);
  std::vector<WeightMatrix> down_projection(const Checkpoint& checkpoint, const TensorView& dense,
                                            const QuantizedLinear& quantized, QuantMethod method,
                                            ThreadPool& pool);

  std::vector<CpuLayerWeights> layers_;
  WeightMatrix output_, embeddings_;
  std::vector<std::unique_ptr<QuantizedMatrix>> owned_;
  std::vector<PageBuffer> copies_;  // the dense matrices' copies (without map_weights)
  bool map_weights_ = false;
  WeightFormat linear_ = WeightFormat::Dense;
  WeightFormat head_ = WeightFormat::Dense;
  std::string dense_dtype_;
  uint64_t done_ = 0, total_ = 0;
  LoadProgress progress_;
};

// A dense tensor as a WeightMatrix (2-D: [rows, cols]; 1-D: one row).
WeightMatrix dense_matrix(const TensorView& t);

// A quantized checkpoint's linear layer [rows, cols] (tensors checked by take_quantized_linear) in the
// kernels' layout: AWQ int4 unpacked exactly as published, agentrt_int8 biased.
std::unique_ptr<QuantizedMatrix> repack_quantized(const QuantizedLinear& q, QuantMethod method, int rows,
                                                  int cols, ThreadPool& pool);

}  // namespace agentrt::engine::cpu
