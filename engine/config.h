// The model's config.json (HF InternLM2Config): every field, validated, with the three rope_scaling variants.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentrt::engine {

enum class RopeScaling { None, Dynamic, Linear };

// config.json "quantization_config": how the linear layers (wqkv, wo, w1, w2, w3) are stored.
//   awq: AutoAWQ GEMM int4 (bits 4, group_size 128, zero_point true, version "gemm"): X.qweight, X.qzeros,
//     X.scales (spec "4-bit AWQ checkpoints");
//   agentrt_int8: X.qweight int8 [out, in] and X.scales [out] (F32 or F16), w = q * scale.
// Norms, embeddings and the output head stay dense.
enum class QuantMethod { None, Awq, Int8 };

struct QuantizationConfig {
  QuantMethod method = QuantMethod::None;
  int bits = 0;
  int group_size = 0;                 // inputs per scale; -1: one scale per output channel
  nlohmann::json original = nullptr;  // the object as read, written back unchanged
};

struct ModelConfig {
  std::vector<std::string> architectures{"InternLM2ForCausalLM"};
  nlohmann::json auto_map = nlohmann::json::object();
  std::string model_type = "internlm2";
  bool bias = false;
  int32_t bos_token_id = 1;
  int32_t eos_token_id = 2;
  int32_t pad_token_id = 2;
  std::string hidden_act = "silu";
  int hidden_size = 0;
  double initializer_range = 0.02;
  int intermediate_size = 0;
  int max_position_embeddings = 32768;
  int num_attention_heads = 0;
  int num_hidden_layers = 0;
  int num_key_value_heads = 0;
  double rms_norm_eps = 1e-5;
  RopeScaling rope_scaling =
      RopeScaling::None;  // config "rope_scaling": null | {type: dynamic|linear, factor}
  double rope_scaling_factor = 1.0;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  std::string torch_dtype = "bfloat16";
  std::string transformers_version;
  bool use_cache = true;
  int vocab_size = 0;
  std::string attn_implementation;
  QuantizationConfig quantization;

  int head_dim() const { return hidden_size / num_attention_heads; }
  int kv_dim() const { return head_dim() * num_key_value_heads; }
  // Query heads per KV head (g in the spec).
  int group_size() const { return num_attention_heads / num_key_value_heads; }
  // Rows of the packed wqkv matrix: (heads + 2 * kv heads) * head dim.
  int qkv_rows() const { return (num_attention_heads + 2 * num_key_value_heads) * head_dim(); }
  // Parameters of the whole model.
  int64_t parameter_count() const;
};

// Parses and validates; throws std::runtime_error naming the offending field (the caller adds the file name).
ModelConfig parse_model_config(const nlohmann::json& json);
// Reads DIR/config.json or a config file; errors name the file.
ModelConfig load_model_config(const std::filesystem::path& path);
nlohmann::json to_json(const ModelConfig& config);

// The RoPE base for a sequence of `length` positions (dynamic NTK grows it past max_position_embeddings).
double rope_base_for_length(const ModelConfig& config, int64_t length);
// Scale applied to positions before the rotation (linear scaling divides them by the factor).
double rope_position_scale(const ModelConfig& config);

}  // namespace agentrt::engine
