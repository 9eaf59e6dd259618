// A loaded model: checkpoint, tokenizer and a backend, the one object the CLI and the LocalEngine LLM backend
// hold. Loading reports progress on a terminal and a one-line summary of what it loaded.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/checkpoint.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/kv_rows.h"
#include "engine/cpu/matmul.h"
#include "engine/tokenizer.h"

namespace agentrt::engine {

struct ModelOptions {
  std::string backend = "cpu";  // "cpu" or "cuda" (builds with the CUDA backend)
  int threads = 0;              // CPU threads; 0: all
  bool progress = false;        // progress bar and summary on stderr (the bar only on a terminal)
  bool prefault = true;         // read the weights in while loading
  // Linear layers: "auto" as the checkpoint stores them, "int8" / "int4" quantized at load from a dense
  // checkpoint (the CPU backend; cpu/cpu_weights.h).
  std::string weights = "auto";
  // KV cache (and the serving engine's block pool): "auto" / "fp32", or "int8" (one scale per head and
  // position; the CPU backend, cpu/kv_rows.h).
  std::string kv_cache = "auto";
  // Prefill activations (cpu/matmul.h): "auto" or "bf16" (rounded to bf16 for bf16 and int8/int4 weights),
  // "fp32" (never rounded).
  std::string prefill_activations = "auto";
  // Dense weights used in place from the mapped checkpoint instead of copied into huge pages (the CPU
  // backend; cpu/cpu_weights.h).
  bool map_weights = false;
};

// "auto", "int8", "int4" as a CPU weight format; std::invalid_argument for anything else.
cpu::WeightFormat parse_weight_format(const std::string& text);
// "auto", "fp32", "int8" as a CPU KV cache format; std::invalid_argument for anything else.
cpu::KvFormat parse_kv_format(const std::string& text);
cpu::PrefillActivations parse_prefill_activations(const std::string& text);

class Model {
 public:
  // Throws CheckpointError / std::runtime_error naming the file for a broken checkpoint or tokenizer, and
  // std::invalid_argument for an unknown backend.
  static std::unique_ptr<Model> load(const std::filesystem::path& dir, const ModelOptions& options = {});

  const Checkpoint& checkpoint() const { return *checkpoint_; }
  const ModelConfig& config() const { return checkpoint_->config(); }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  Backend& backend() { return *backend_; }
  // "internlm2 24 layers, hidden 2048, ... BF16, 3.54 GiB, loaded in 1.2 s"
  const std::string& summary() const { return summary_; }

 private:
  Model(std::shared_ptr<Checkpoint> checkpoint, Tokenizer tokenizer)
      : checkpoint_(std::move(checkpoint)), tokenizer_(std::move(tokenizer)) {}
  std::shared_ptr<Checkpoint> checkpoint_;
  Tokenizer tokenizer_;
  std::unique_ptr<Backend> backend_;
  std::string summary_;
};

}  // namespace agentrt::engine
