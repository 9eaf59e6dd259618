#include "engine/checkpoint.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace agentrt::engine {
namespace {

std::string layer_name(int layer, const char* suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

// Buffers some HF versions save next to the weights; they are recomputed, never read.
bool is_ignored_tensor(const std::string& name) {
  return name.ends_with("rotary_emb.inv_freq");
}

std::map<std::string, std::string> read_index(const std::filesystem::path& index_path) {
  std::ifstream in(index_path);
  if (!in) throw CheckpointError(index_path.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw CheckpointError(index_path.string() + ": not a JSON object");
  const auto map = json.find("weight_map");
  if (map == json.end() || !map->is_object())
    throw CheckpointError(index_path.string() + ": no \"weight_map\" object");
  std::map<std::string, std::string> out;
  for (const auto& [name, file] : map->items()) {
    if (!file.is_string())
      throw CheckpointError(index_path.string() + ": weight_map entry '" + name + "' is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "..") {
      throw CheckpointError(index_path.string() + ": weight_map entry '" + name + "' names a bad file '" + f +
                            "'");
    }
    out[name] = f;
  }
  return out;
}

}  // namespace

std::vector<std::string> expected_tensor_names(const ModelConfig& c) {
  std::vector<std::string> names{"model.tok_embeddings.weight"};
  const QuantMethod quant = c.quantization.method;
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    for (const char* suffix : {"attention_norm.weight", "ffn_norm.weight"})
      names.push_back(layer_name(i, suffix));
    for (const char* linear :
         {"attention.wqkv", "attention.wo", "feed_forward.w1", "feed_forward.w3", "feed_forward.w2"}) {
      const std::string base = layer_name(i, linear);
      if (quant == QuantMethod::None) {
        names.push_back(base + ".weight");
        continue;
      }
      names.push_back(base + ".qweight");
      names.push_back(base + ".scales");
      if (quant == QuantMethod::Awq) names.push_back(base + ".qzeros");
    }
  }
  names.push_back("model.norm.weight");
  if (!c.tie_word_embeddings) names.push_back("output.weight");
  return names;
}

std::unique_ptr<Checkpoint> Checkpoint::open(const std::filesystem::path& dir, const LoadOptions& options) {
  auto ckpt = std::unique_ptr<Checkpoint>(new Checkpoint());
  ckpt->dir_ = dir;
  if (!std::filesystem::is_directory(dir)) throw CheckpointError(dir.string() + ": not a directory");
  try {
    ckpt->config_ = load_model_config(dir / "config.json");
  } catch (const std::exception& e) {
    throw CheckpointError(e.what());
  }
  const ModelConfig& c = ckpt->config_;

  // Which file holds each tensor.
  const auto single = dir / "model.safetensors";
  const auto index_path = dir / "model.safetensors.index.json";
  std::map<std::string, std::string> index;
  std::vector<std::string> file_names;
  if (std::filesystem::exists(index_path)) {
    index = read_index(index_path);
    std::set<std::string> unique;
    for (const auto& [name, file] : index) unique.insert(file);
    file_names.assign(unique.begin(), unique.end());
  } else if (std::filesystem::exists(single)) {
    file_names.push_back("model.safetensors");
  } else {
    throw CheckpointError(dir.string() + ": no model.safetensors or model.safetensors.index.json");
  }

  std::map<std::string, const TensorView*> found;
  for (const auto& name : file_names) {
    const auto path = dir / name;
    if (!std::filesystem::exists(path))
      throw CheckpointError(path.string() + ": missing (listed in the index)");
    ckpt->files_.push_back(std::make_unique<SafetensorsFile>(path));
    for (const auto& [tensor, view] : ckpt->files_.back()->tensors()) {
      if (is_ignored_tensor(tensor)) continue;
      if (!index.empty()) {
        const auto listed = index.find(tensor);
        if (listed == index.end()) {
          throw CheckpointError(path.string() + ": tensor '" + tensor + "' is not in the index");
        }
        if (listed->second != name) {
          throw CheckpointError(path.string() + ": tensor '" + tensor + "' is listed in the index under " +
                                listed->second);
        }
      }
      if (found.contains(tensor))
        throw CheckpointError(path.string() + ": tensor '" + tensor + "' appears twice");
      found[tensor] = &view;
    }
  }

  const auto expected = expected_tensor_names(c);
  const std::set<std::string> expected_set(expected.begin(), expected.end());
  for (const auto& [tensor, view] : found) {
    if (!expected_set.contains(tensor)) {
      throw CheckpointError(dir.string() + "/" + view->file + ": unexpected tensor '" + tensor +
                            "' (not part of an InternLM2 model with this config)");
    }
  }
  for (const auto& tensor : index) {
    if (!found.contains(tensor.first) && !is_ignored_tensor(tensor.first)) {
      throw CheckpointError((dir / tensor.second).string() + ": missing tensor '" + tensor.first +
                            "' (the index lists it in this file)");
    }
  }
  const int64_t h = c.hidden_size, ff = c.intermediate_size, v = c.vocab_size;
  const auto lookup = [&](const std::string& name) -> const TensorView& {
    const auto it = found.find(name);
    if (it == found.end()) {
      if (index.empty()) throw CheckpointError(single.string() + ": missing tensor '" + name + "'");
      throw CheckpointError(index_path.string() + ": missing tensor '" + name + "' (not in the weight_map)");
    }
    return *it->second;
  };
  const auto take = [&](const std::string& name, std::vector<int64_t> shape) -> TensorView {
    const TensorView& view = lookup(name);
    if (view.shape != shape) {
      throw CheckpointError(dir.string() + "/" + view.file + ": tensor '" + name + "' has shape " +
                            format_shape(view.shape) + ", expected " + format_shape(shape) +
                            " from config.json");
    }
    ckpt->weight_bytes_ += view.bytes;
    return view;
  };
  const auto where = [&](const TensorView& view) {
    return dir.string() + "/" + view.file + ": tensor '" + view.name + "'";
  };
  const auto take_dense = [&](const std::string& name, std::vector<int64_t> shape) -> TensorView {
    const auto it = found.find(name);
    if (it != found.end() && !is_float_dtype(it->second->dtype)) {
      throw CheckpointError(where(*it->second) + " is " + std::string(dtype_name(it->second->dtype)) +
                            "; a dense weight must be BF16, F16 or F32");
    }
    return take(name, std::move(shape));
  };
  // A linear layer [out, in]: dense, or its quantized tensors (and a dense view without data).
  const auto take_linear = [&](const std::string& base, int64_t out, int64_t in,
                               QuantizedLinear& q) -> TensorView {
    if (c.quantization.method == QuantMethod::None) return take_dense(base + ".weight", {out, in});
    TensorView dense;
    dense.name = base + ".weight";
    dense.dtype = DType::BF16;
    dense.shape = {out, in};
    q = take_quantized_linear(c.quantization, base, out, in, lookup, dir.string());
    ckpt->weight_bytes_ += q.qweight.bytes + q.qzeros.bytes + q.scales.bytes;
    return dense;
  };
  ModelWeights& w = ckpt->weights_;
  w.tok_embeddings = take_dense("model.tok_embeddings.weight", {v, h});
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    LayerWeights layer;
    layer.attention_norm = take_dense(layer_name(i, "attention_norm.weight"), {h});
    layer.wqkv = take_linear(layer_name(i, "attention.wqkv"), c.qkv_rows(), h, layer.quantized.wqkv);
    layer.wo = take_linear(layer_name(i, "attention.wo"), h,
                           static_cast<int64_t>(c.num_attention_heads) * c.head_dim(), layer.quantized.wo);
    layer.ffn_norm = take_dense(layer_name(i, "ffn_norm.weight"), {h});
    layer.w1 = take_linear(layer_name(i, "feed_forward.w1"), ff, h, layer.quantized.w1);
    layer.w3 = take_linear(layer_name(i, "feed_forward.w3"), ff, h, layer.quantized.w3);
    layer.w2 = take_linear(layer_name(i, "feed_forward.w2"), h, ff, layer.quantized.w2);
    w.layers.push_back(std::move(layer));
  }
  w.norm = take_dense("model.norm.weight", {h});
  w.output = c.tie_word_embeddings ? w.tok_embeddings : take_dense("output.weight", {v, h});

  if (options.prefault) {
    // Touch one byte per page so the weights are resident; report as we go.
    uint64_t done = 0;
    const uint64_t total = ckpt->weight_bytes_;
    const auto small = [](const std::string& name) { return name.find("norm.weight") != std::string::npos; };
    if (!options.prefault_small_only) {
      for (const auto& file : ckpt->files_) {
        file->mapped().advise_will_need(0, file->mapped().bytes().size());
      }
    }
    volatile uint8_t sink = 0;
    for (const auto& file : ckpt->files_) {
      for (const auto& [name, view] : file->tensors()) {
        if (options.prefault_small_only && !small(name)) continue;
        const auto* bytes = static_cast<const uint8_t*>(view.data);
        for (uint64_t off = 0; off < view.bytes; off += 4096) sink = sink + bytes[off];
        done += view.bytes;
        if (options.progress) options.progress(std::min(done, total), total);
      }
    }
  }
  return ckpt;
}

void Checkpoint::copy_bytes(const void* data, std::size_t length, void* out) const {
  for (const auto& file : files_) {
    if (file->mapped().contains(data, length)) return file->mapped().copy_out(data, length, out);
  }
  throw std::out_of_range(dir_.string() + ": copy_bytes: the range is in none of the checkpoint's files");
}

uint64_t Checkpoint::decode_bytes_per_token() const {
  const uint64_t row = weights_.tok_embeddings.bytes / static_cast<uint64_t>(config_.vocab_size);
  return weight_bytes_ - weights_.tok_embeddings.bytes + row +
         (config_.tie_word_embeddings ? weights_.tok_embeddings.bytes : 0);
}

std::string Checkpoint::dtype_summary() const {
  std::set<std::string> names;
  for (const auto& file : files_) {
    for (const auto& [name, view] : file->tensors()) {
      if (quantized() &&
          (name.ends_with(".qweight") || name.ends_with(".qzeros") || name.ends_with(".scales")))
        continue;
      names.insert(std::string(dtype_name(view.dtype)));
    }
  }
  const std::string dense = names.size() == 1 ? *names.begin() : "mixed";
  switch (config_.quantization.method) {
    case QuantMethod::Awq:
      return "int4 AWQ + " + dense;
    case QuantMethod::Int8:
      return "int8 + " + dense;
    case QuantMethod::None:
      break;
  }
  return dense;
}

}  // namespace agentrt::engine
