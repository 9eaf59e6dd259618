// A checkpoint directory as the model hub ships it: config.json, model.safetensors or a sharded
// model.safetensors.index.json, tokenizer files. Opening it maps every file, checks every tensor's name,
// dtype and shape against the config, and exposes the weights under their roles.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/quantized_tensors.h"
#include "engine/safetensors.h"

namespace agentrt::engine {

// In a quantized checkpoint the dense views of the linear layers keep their name ("...wqkv.weight"), logical
// shape [out, in] and no data; their `quantized` counterparts hold the tensors.
struct LayerWeights {
  TensorView attention_norm;  // [hidden]
  TensorView wqkv;      // [(heads + 2 * kv_heads) * head_dim, hidden], grouped per KV head (qkv_layout.h)
  TensorView wo;        // [hidden, heads * head_dim]
  TensorView ffn_norm;  // [hidden]
  TensorView w1;        // [intermediate, hidden] gate
  TensorView w3;        // [intermediate, hidden] up
  TensorView w2;        // [hidden, intermediate] down
  struct {
    QuantizedLinear wqkv, wo, w1, w3, w2;
  } quantized;
};

struct ModelWeights {
  TensorView tok_embeddings;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  TensorView norm;    // [hidden]
  TensorView output;  // [vocab, hidden]; the embeddings when tie_word_embeddings
};

// The HF name of each weight (spec "Tensor names").
std::vector<std::string> expected_tensor_names(const ModelConfig& config);

// Called while pages are read in: (bytes done, bytes total).
using LoadProgress = std::function<void(uint64_t done, uint64_t total)>;

struct LoadOptions {
  // Read every weight page before returning (so the first token does not pay for disk reads).
  bool prefault = false;
  // With prefault: only the norms (the linear layers and the output head are read by a backend that converts
  // them, and embedding rows as tokens need them).
  bool prefault_small_only = false;
  LoadProgress progress;
};

class Checkpoint {
 public:
  // Throws CheckpointError naming the file and tensor for anything malformed.
  static std::unique_ptr<Checkpoint> open(const std::filesystem::path& dir, const LoadOptions& options = {});

  const std::filesystem::path& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  // Bytes of all weight tensors, and of the ones a decode step reads (all but the embedding table).
  uint64_t weight_bytes() const { return weight_bytes_; }
  uint64_t decode_bytes_per_token() const;
  // "BF16", or "mixed" when tensors differ; "int4 AWQ + BF16" / "int8 + BF16" for quantized checkpoints.
  std::string dtype_summary() const;
  bool quantized() const { return config_.quantization.method != QuantMethod::None; }
  std::size_t file_count() const { return files_.size(); }
  // Copies [data, data + length), a range of one of the mapped files (a tensor's bytes), into `out` with
  // pread; std::out_of_range when no file holds the range.
  void copy_bytes(const void* data, std::size_t length, void* out) const;

 private:
  std::filesystem::path dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  ModelWeights weights_;
  uint64_t weight_bytes_ = 0;
};

}  // namespace agentrt::engine
