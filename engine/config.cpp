#include "engine/config.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace agentrt::engine {
namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::runtime_error("field \"" + field + "\" " + why);
}

template <typename T>
void read_optional(const nlohmann::json& json, const char* field, T& out) {
  const auto it = json.find(field);
  if (it == json.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    bad(field, std::string("has the wrong type (") + it->type_name() + ")");
  }
}

int read_positive(const nlohmann::json& json, const char* field) {
  const auto it = json.find(field);
  if (it == json.end() || it->is_null()) bad(field, "is missing");
  if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (1ll << 30)) {
    bad(field, "must be a positive integer, got " + it->dump());
  }
  return it->get<int>();
}

QuantizationConfig parse_quantization(const nlohmann::json& q) {
  const std::string field = "quantization_config";
  if (!q.is_object()) bad(field, "must be an object");
  QuantizationConfig out;
  out.original = q;
  const auto method = q.find("quant_method");
  if (method == q.end() || !method->is_string()) bad(field, "has no \"quant_method\" string");
  const auto int_field = [&](const char* name) -> int {
    const auto it = q.find(name);
    if (it == q.end() || !it->is_number_integer()) bad(field, std::string("has no integer \"") + name + "\"");
    return it->get<int>();
  };
  const std::string name = method->get<std::string>();
  if (name == "awq") {
    out.method = QuantMethod::Awq;
    out.bits = int_field("bits");
    if (out.bits != 4)
      bad(field, "has bits " + std::to_string(out.bits) + "; AWQ checkpoints load with bits 4 only");
    out.group_size = int_field("group_size");
    if (out.group_size != 128) {
      bad(field, "has group_size " + std::to_string(out.group_size) + "; only 128 is supported");
    }
    const auto zero = q.find("zero_point");
    if (zero != q.end() && !(zero->is_boolean() && zero->get<bool>())) {
      bad(field, "has zero_point " + zero->dump() + "; only zero_point true (AutoAWQ GEMM) is supported");
    }
    const auto version = q.find("version");
    std::string v = version != q.end() && version->is_string() ? version->get<std::string>() : "gemm";
    for (char& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (v != "gemm") {
      bad(field, "has version " + (version != q.end() ? version->dump() : std::string("?")) +
                     "; only the \"gemm\" layout is supported");
    }
  } else if (name == "agentrt_int8") {
    out.method = QuantMethod::Int8;
    out.bits = int_field("bits");
    if (out.bits != 8) bad(field, "has bits " + std::to_string(out.bits) + "; agentrt_int8 has bits 8");
    out.group_size = -1;
  } else {
    bad(field, "has quant_method \"" + name + "\"; supported: \"awq\" (4-bit GEMM) and \"agentrt_int8\"");
  }
  return out;
}

}  // namespace

int64_t ModelConfig::parameter_count() const {
  const int64_t h = hidden_size;
  const int64_t per_layer = 2 * h + static_cast<int64_t>(qkv_rows()) * h + h * h + 3 * h * intermediate_size;
  const int64_t head = tie_word_embeddings ? 0 : static_cast<int64_t>(vocab_size) * h;
  return static_cast<int64_t>(vocab_size) * h + per_layer * num_hidden_layers + h + head;
}

ModelConfig parse_model_config(const nlohmann::json& json) {
  if (!json.is_object()) throw std::runtime_error("the config is not a JSON object");
  ModelConfig c;
  read_optional(json, "architectures", c.architectures);
  if (json.contains("auto_map")) c.auto_map = json["auto_map"];
  read_optional(json, "model_type", c.model_type);
  if (c.model_type != "internlm2")
    bad("model_type", "is \"" + c.model_type + "\"; only \"internlm2\" is supported");
  read_optional(json, "bias", c.bias);
  if (c.bias) bad("bias", "is true; InternLM2 checkpoints have no biases and this engine supports none");
  read_optional(json, "bos_token_id", c.bos_token_id);
  read_optional(json, "eos_token_id", c.eos_token_id);
  read_optional(json, "pad_token_id", c.pad_token_id);
  read_optional(json, "hidden_act", c.hidden_act);
  if (c.hidden_act != "silu") bad("hidden_act", "is \"" + c.hidden_act + "\"; only \"silu\" is supported");
  c.hidden_size = read_positive(json, "hidden_size");
  read_optional(json, "initializer_range", c.initializer_range);
  c.intermediate_size = read_positive(json, "intermediate_size");
  if (json.contains("max_position_embeddings"))
    c.max_position_embeddings = read_positive(json, "max_position_embeddings");
  c.num_attention_heads = read_positive(json, "num_attention_heads");
  c.num_hidden_layers = read_positive(json, "num_hidden_layers");
  c.num_key_value_heads = c.num_attention_heads;
  if (json.contains("num_key_value_heads") && !json["num_key_value_heads"].is_null()) {
    c.num_key_value_heads = read_positive(json, "num_key_value_heads");
  }
  read_optional(json, "rms_norm_eps", c.rms_norm_eps);
  if (!(c.rms_norm_eps > 0)) bad("rms_norm_eps", "must be positive");
  read_optional(json, "rope_theta", c.rope_theta);
  if (!(c.rope_theta > 0)) bad("rope_theta", "must be positive");
  read_optional(json, "tie_word_embeddings", c.tie_word_embeddings);
  read_optional(json, "torch_dtype", c.torch_dtype);
  read_optional(json, "transformers_version", c.transformers_version);
  read_optional(json, "use_cache", c.use_cache);
  c.vocab_size = read_positive(json, "vocab_size");
  read_optional(json, "attn_implementation", c.attn_implementation);
  const auto quantization = json.find("quantization_config");
  if (quantization != json.end() && !quantization->is_null())
    c.quantization = parse_quantization(*quantization);

  const auto rope = json.find("rope_scaling");
  if (rope != json.end() && !rope->is_null()) {
    if (!rope->is_object()) bad("rope_scaling", "must be null or an object {\"type\", \"factor\"}");
    const auto type = rope->find("type");
    if (type == rope->end() || !type->is_string()) bad("rope_scaling", "has no \"type\" string");
    const auto factor = rope->find("factor");
    if (factor == rope->end() || !factor->is_number()) bad("rope_scaling", "has no numeric \"factor\"");
    c.rope_scaling_factor = factor->get<double>();
    if (*type == "dynamic") {
      c.rope_scaling = RopeScaling::Dynamic;
    } else if (*type == "linear") {
      c.rope_scaling = RopeScaling::Linear;
    } else {
      bad("rope_scaling", "has type " + type->dump() + "; supported: \"dynamic\", \"linear\"");
    }
    if (!(c.rope_scaling_factor >= 1.0)) bad("rope_scaling", "factor must be >= 1");
  }

  if (c.hidden_size % c.num_attention_heads != 0) {
    bad("hidden_size", "(" + std::to_string(c.hidden_size) + ") is not a multiple of num_attention_heads (" +
                           std::to_string(c.num_attention_heads) + ")");
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    bad("num_key_value_heads", "(" + std::to_string(c.num_key_value_heads) +
                                   ") does not divide num_attention_heads (" +
                                   std::to_string(c.num_attention_heads) + ")");
  }
  if (c.head_dim() % 2 != 0) bad("hidden_size", "gives an odd head dimension; RoPE needs an even one");
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& path) {
  const auto file = std::filesystem::is_directory(path) ? path / "config.json" : path;
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open the model config");
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) throw std::runtime_error(file.string() + ": not valid JSON");
  try {
    return parse_model_config(json);
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

nlohmann::json to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["architectures"] = c.architectures;
  j["attn_implementation"] = c.attn_implementation.empty() ? "eager" : c.attn_implementation;
  j["auto_map"] = c.auto_map;
  j["bias"] = c.bias;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["hidden_act"] = c.hidden_act;
  j["hidden_size"] = c.hidden_size;
  j["initializer_range"] = c.initializer_range;
  j["intermediate_size"] = c.intermediate_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["model_type"] = c.model_type;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["pad_token_id"] = c.pad_token_id;
  j["rms_norm_eps"] = c.rms_norm_eps;
  if (c.rope_scaling == RopeScaling::None) {
    j["rope_scaling"] = nullptr;
  } else {
    j["rope_scaling"] = {{"factor", c.rope_scaling_factor},
                         {"type", c.rope_scaling == RopeScaling::Dynamic ? "dynamic" : "linear"}};
  }
  j["rope_theta"] = c.rope_theta;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["torch_dtype"] = c.torch_dtype;
  j["transformers_version"] = c.transformers_version.empty() ? "4.41.0" : c.transformers_version;
  j["use_cache"] = c.use_cache;
  j["vocab_size"] = c.vocab_size;
  if (c.quantization.method != QuantMethod::None) j["quantization_config"] = c.quantization.original;
  return j;
}

double rope_base_for_length(const ModelConfig& c, int64_t length) {
  if (c.rope_scaling != RopeScaling::Dynamic || length <= c.max_position_embeddings) return c.rope_theta;
  const double d = c.head_dim();
  const double f = c.rope_scaling_factor;
  return c.rope_theta *
         std::pow(f * static_cast<double>(length) / c.max_position_embeddings - (f - 1.0), d / (d - 2.0));
}

double rope_position_scale(const ModelConfig& c) {
  return c.rope_scaling == RopeScaling::Linear ? 1.0 / c.rope_scaling_factor : 1.0;
}

}  // namespace agentrt::engine
