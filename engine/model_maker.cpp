#include "engine/model_maker.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/tokenizer_trainer.h"

namespace agentrt::engine {
namespace {

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct PlannedTensor {
  std::string name;
  std::vector<int64_t> shape;
  // value = offset + amplitude * u, u uniform in [-1, 1)
  float offset = 0.0f;
  float amplitude = 0.0f;
  uint64_t bytes = 0;
};

std::vector<PlannedTensor> plan_tensors(const ModelConfig& c, DType dtype) {
  std::vector<PlannedTensor> out;
  const int64_t h = c.hidden_size, ff = c.intermediate_size, v = c.vocab_size;
  const auto sqrt3 = std::sqrt(3.0f);
  // Uniform with the given standard deviation: amplitude = std * sqrt(3).
  const auto matrix = [&](std::string name, int64_t rows, int64_t cols, float std) {
    out.push_back({std::move(name), {rows, cols}, 0.0f, std * sqrt3, 0});
  };
  const auto norm = [&](std::string name) { out.push_back({std::move(name), {h}, 1.0f, 0.2f, 0}); };
  matrix("model.tok_embeddings.weight", v, h, 1.0f);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    norm(p + "attention_norm.weight");
    matrix(p + "attention.wqkv.weight", c.qkv_rows(), h, 1.0f / std::sqrt(static_cast<float>(h)));
    matrix(p + "attention.wo.weight", h, static_cast<int64_t>(c.num_attention_heads) * c.head_dim(),
           1.0f / std::sqrt(static_cast<float>(h)));
    norm(p + "ffn_norm.weight");
    matrix(p + "feed_forward.w1.weight", ff, h, 1.0f / std::sqrt(static_cast<float>(h)));
    matrix(p + "feed_forward.w3.weight", ff, h, 1.0f / std::sqrt(static_cast<float>(h)));
    matrix(p + "feed_forward.w2.weight", h, ff, 1.0f / std::sqrt(static_cast<float>(ff)));
  }
  norm("model.norm.weight");
  // Logits with a standard deviation of about 3: clear winners for greedy tests, still a spread for sampling.
  if (!c.tie_word_embeddings) matrix("output.weight", v, h, 3.0f / std::sqrt(static_cast<float>(h)));
  for (auto& t : out) {
    t.bytes = dtype_size(dtype);
    for (const int64_t d : t.shape) t.bytes *= static_cast<uint64_t>(d);
  }
  return out;
}

void write_tensor(std::ofstream& out, const PlannedTensor& t, DType dtype, uint64_t seed) {
  const uint64_t key = mix(seed ^ fnv1a(t.name));
  uint64_t count = 1;
  for (const int64_t d : t.shape) count *= static_cast<uint64_t>(d);
  constexpr uint64_t kChunk = 1 << 16;
  std::vector<char> buffer(kChunk * 4);
  for (uint64_t begin = 0; begin < count; begin += kChunk) {
    const uint64_t n = std::min(kChunk, count - begin);
    std::size_t used = 0;
    for (uint64_t i = begin; i < begin + n; ++i) {
      // 24 random bits give an exactly representable u in [-1, 1), identical on every machine.
      const uint64_t bits = mix(key + 0x9e3779b97f4a7c15ull * (i + 1)) >> 40;
      const float u = static_cast<float>(static_cast<int64_t>(bits) - (1 << 23)) * (1.0f / (1 << 23));
      const float value = t.offset + t.amplitude * u;
      if (dtype == DType::F32) {
        std::memcpy(buffer.data() + used, &value, 4);
        used += 4;
      } else {
        const uint16_t half = dtype == DType::BF16 ? f32_to_bf16(value) : f32_to_f16(value);
        std::memcpy(buffer.data() + used, &half, 2);
        used += 2;
      }
    }
    out.write(buffer.data(), static_cast<std::streamsize>(used));
  }
}

void write_json(const std::filesystem::path& path, const nlohmann::json& json) {
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

std::string torch_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::BF16:
      return "bfloat16";
    case DType::F16:
      return "float16";
    case DType::F32:
      return "float32";
    case DType::I8:
    case DType::I32:
      break;
  }
  return "bfloat16";
}

}  // namespace

std::vector<std::string> preset_names() {
  return {"tiny", "1_8b", "7b", "20b"};
}

ModelConfig preset_config(std::string_view name) {
  ModelConfig c;
  c.rope_theta = 1000000.0;
  c.max_position_embeddings = 32768;
  c.num_key_value_heads = 8;
  c.vocab_size = 92544;
  c.rope_scaling = RopeScaling::Dynamic;
  c.rope_scaling_factor = 2.0;
  c.auto_map = {{"AutoConfig", "configuration_internlm2.InternLM2Config"},
                {"AutoModel", "modeling_internlm2.InternLM2ForCausalLM"},
                {"AutoModelForCausalLM", "modeling_internlm2.InternLM2ForCausalLM"}};
  if (name == "tiny") {
    c.hidden_size = 64;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.intermediate_size = 128;
    c.vocab_size = 512;
    c.max_position_embeddings = 64;
  } else if (name == "1_8b") {
    c.hidden_size = 2048;
    c.num_hidden_layers = 24;
    c.num_attention_heads = 16;
    c.intermediate_size = 8192;
  } else if (name == "7b") {
    c.hidden_size = 4096;
    c.num_hidden_layers = 32;
    c.num_attention_heads = 32;
    c.intermediate_size = 14336;
  } else if (name == "20b") {
    c.hidden_size = 6144;
    c.num_hidden_layers = 48;
    c.num_attention_heads = 48;
    c.intermediate_size = 16384;
  } else {
    throw std::invalid_argument("unknown preset '" + std::string(name) + "' (known: tiny, 1_8b, 7b, 20b)");
  }
  return c;
}

void make_model(const std::filesystem::path& dir, const MakeModelOptions& options) {
  ModelConfig config = options.config;
  config.torch_dtype = torch_dtype_name(options.dtype);
  // Round-trip through the parser: the written config is one the loader accepts.
  config = parse_model_config(to_json(config));
  const auto tensors = plan_tensors(config, options.dtype);
  if (options.shards < 1 || static_cast<std::size_t>(options.shards) > tensors.size()) {
    throw std::invalid_argument("make-model: --shards must be between 1 and " +
                                std::to_string(tensors.size()));
  }
  std::filesystem::create_directories(dir);
  write_json(dir / "config.json", to_json(config));
  write_json(dir / "generation_config.json", {{"bos_token_id", config.bos_token_id},
                                              {"eos_token_id", {config.eos_token_id, 92542}},
                                              {"pad_token_id", config.pad_token_id}});
  write_trained_tokenizer(dir, config.vocab_size);

  // Split by bytes: shard s ends once the running total passes (s + 1) / shards of the whole.
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes;
  std::vector<std::vector<const PlannedTensor*>> shards(options.shards);
  uint64_t running = 0;
  std::size_t shard = 0;
  const std::size_t n_shards = shards.size();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::size_t want = std::min<std::size_t>(n_shards - 1, running * n_shards / std::max<uint64_t>(total, 1));
    // Leave at least one tensor for each later shard.
    if (n_shards > tensors.size() - i) want = std::max(want, n_shards - (tensors.size() - i));
    if (want > shard && !shards[shard].empty()) ++shard;
    shards[shard].push_back(&tensors[i]);
    running += tensors[i].bytes;
  }

  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  uint64_t written = 0;
  for (int s = 0; s < options.shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, options.shards);
    const std::string file = options.shards == 1 ? "model.safetensors" : name;
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    header["__metadata__"] = {{"format", "pt"}};
    uint64_t offset = 0;
    for (const auto* t : shards[s]) {
      header[t->name] = {{"dtype", std::string(dtype_name(options.dtype))},
                         {"shape", t->shape},
                         {"data_offsets", {offset, offset + t->bytes}}};
      offset += t->bytes;
      weight_map[t->name] = file;
    }
    std::string text = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned, as the safetensors library does.
    while ((8 + text.size()) % 8 != 0) text += ' ';
    std::ofstream out(dir / file, std::ios::binary);
    const uint64_t length = text.size();
    char length_bytes[8];
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    out.write(length_bytes, 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto* t : shards[s]) {
      write_tensor(out, *t, options.dtype, options.seed);
      written += t->bytes;
      if (options.progress) options.progress(written, total);
    }
    if (!out) throw std::runtime_error((dir / file).string() + ": cannot write");
  }
  if (options.shards > 1) {
    write_json(dir / "model.safetensors.index.json",
               nlohmann::ordered_json{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}});
  }
}

}  // namespace agentrt::engine
