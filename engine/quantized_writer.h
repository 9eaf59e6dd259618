// Writes a quantized copy of a dense checkpoint, so that a user quantizes once and loads fast: the linear
// layers (wqkv, wo, w1, w3, w2) rounded to nearest as int4 in the AutoAWQ GEMM layout (quant_method awq, the
// layout lmdeploy's and AutoAWQ's InternLM2 4-bit checkpoints use) or as int8 (quant_method agentrt_int8);
// norms, embeddings and the output head as stored. The result loads with Checkpoint::open and gives the same
// weights as quantizing at load (--weights int4|int8).
#pragma once

#include <filesystem>

#include "engine/checkpoint.h"
#include "engine/config.h"

namespace agentrt::engine {

struct QuantizeOptions {
  QuantMethod method = QuantMethod::Awq;  // Awq (int4) or Int8
  int threads = 0;                        // 0: all
  LoadProgress progress;                  // bytes of dense weights done
};

// Writes config.json (with quantization_config), model.safetensors and the source folder's other files
// (tokenizer, generation config, ...). Throws std::invalid_argument for a quantized source or an `out` that
// exists and is not empty (nothing is overwritten), CheckpointError/std::runtime_error for I/O errors.
void write_quantized_checkpoint(const Checkpoint& source, const std::filesystem::path& out,
                                const QuantizeOptions& options);

}  // namespace agentrt::engine
