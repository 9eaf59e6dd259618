// Random-weight checkpoints in the exact on-disk format of the real models (config.json, safetensors, sharded
// index, tokenizer), so tests and benchmarks get models of real shapes without downloads. Weights are a pure
// function of (seed, tensor name, element index): sharding does not change them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/config.h"
#include "engine/dtype.h"

namespace agentrt::engine {

// "tiny" (a few hundred thousand parameters, GQA, dynamic NTK past 64 positions), "1_8b", "7b", "20b" (spec
// shapes, vocabulary 92544). Throws std::invalid_argument listing the presets.
ModelConfig preset_config(std::string_view name);
std::vector<std::string> preset_names();

struct MakeModelOptions {
  ModelConfig config;
  DType dtype = DType::BF16;
  int shards = 1;
  uint64_t seed = 0;
  LoadProgress progress;  // bytes written so far
};

// Writes config.json, model.safetensors (or model-0000i-of-0000n.safetensors and the index),
// tokenizer.model, tokenizer_config.json and generation_config.json into `out`.
void make_model(const std::filesystem::path& out, const MakeModelOptions& options);

}  // namespace agentrt::engine
