#include "engine/quantized_writer.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "engine/cpu/kernels.h"
#include "engine/cpu/thread_pool.h"
#include "engine/quantize.h"
#include "engine/safetensors_writer.h"

namespace agentrt::engine {
namespace {

// One tensor of the output: a dense tensor copied, or one linear layer quantized (several tensors).
struct Item {
  const TensorView* dense = nullptr;
  bool linear = false;
};

std::vector<float> rows_as_float(const TensorView& t, cpu::ThreadPool& pool) {
  const int rows = static_cast<int>(t.shape[0]), cols = static_cast<int>(t.shape[1]);
  std::vector<float> out(static_cast<std::size_t>(rows) * cols);
  cpu::WeightMatrix w{t.data, t.dtype, rows, cols};
  pool.run(rows,
           [&](int r, int) { cpu::convert_row(w, r, out.data() + static_cast<std::size_t>(r) * cols); });
  return out;
}

void write_json_file(const std::filesystem::path& path, const nlohmann::json& json) {
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

}  // namespace

void write_quantized_checkpoint(const Checkpoint& source, const std::filesystem::path& out,
                                const QuantizeOptions& options) {
  if (source.quantized()) {
    throw std::invalid_argument(source.dir().string() + " is already quantized (" + source.dtype_summary() +
                                ")");
  }
  if (options.method != QuantMethod::Awq && options.method != QuantMethod::Int8) {
    throw std::invalid_argument("quantize: the method must be awq (int4) or agentrt_int8");
  }
  std::error_code ec;
  if (std::filesystem::exists(out) && !std::filesystem::is_empty(out, ec)) {
    throw std::invalid_argument(out.string() + " exists and is not empty; nothing was written");
  }
  const ModelConfig& c = source.config();
  const bool awq = options.method == QuantMethod::Awq;
  if (awq) {
    // Checked before anything is written.
    for (const int64_t in : {static_cast<int64_t>(c.hidden_size), static_cast<int64_t>(c.intermediate_size),
                             static_cast<int64_t>(c.num_attention_heads) * c.head_dim()}) {
      if (in % kInt4Group != 0) {
        throw std::invalid_argument("int4 needs every linear layer's in_features divisible by " +
                                    std::to_string(kInt4Group) + "; this model has one of " +
                                    std::to_string(in));
      }
    }
  }
  std::filesystem::create_directories(out);

  ModelConfig quantized = c;
  quantized.quantization.method = options.method;
  quantized.quantization.bits = awq ? 4 : 8;
  quantized.quantization.group_size = awq ? kInt4Group : -1;
  quantized.quantization.original =
      awq ? nlohmann::json{{"quant_method", "awq"},
                           {"bits", 4},
                           {"group_size", kInt4Group},
                           {"zero_point", true},
                           {"version", "gemm"}}
          : nlohmann::json{{"quant_method", "agentrt_int8"}, {"bits", 8}, {"group_size", -1}};
  // Round-trip through the parser: the written config is one the loader accepts.
  quantized = parse_model_config(to_json(quantized));

  // The plan: every tensor in the order expected_tensor_names gives, with its shape.
  const ModelWeights& w = source.weights();
  std::vector<PlannedTensorEntry> plan;
  std::vector<Item> items;
  const auto dense = [&](const TensorView& t) {
    plan.push_back({t.name, t.dtype, t.shape});
    items.push_back({&t, false});
  };
  const auto linear = [&](const TensorView& t) {
    const std::string base = t.name.substr(0, t.name.size() - std::string(".weight").size());
    const int64_t rows = t.shape[0], cols = t.shape[1];
    if (awq) {
      plan.push_back({base + ".qweight", DType::I32, {cols, rows / 8}});
      plan.push_back({base + ".qzeros", DType::I32, {cols / kInt4Group, rows / 8}});
      plan.push_back({base + ".scales", DType::F16, {cols / kInt4Group, rows}});
    } else {
      plan.push_back({base + ".qweight", DType::I8, {rows, cols}});
      plan.push_back({base + ".scales", DType::F32, {rows}});
    }
    items.push_back({&t, true});
  };
  dense(w.tok_embeddings);
  for (const auto& layer : w.layers) {
    dense(layer.attention_norm);
    linear(layer.wqkv);
    linear(layer.wo);
    dense(layer.ffn_norm);
    linear(layer.w1);
    linear(layer.w3);
    linear(layer.w2);
  }
  dense(w.norm);
  if (!c.tie_word_embeddings) dense(w.output);

  cpu::ThreadPool pool(options.threads);
  SafetensorsWriter writer(out / "model.safetensors", plan);
  uint64_t done = 0;
  const uint64_t total = source.weight_bytes();
  for (const Item& item : items) {
    const TensorView& t = *item.dense;
    if (!item.linear) {
      writer.write(t.name, t.data, t.bytes);
    } else {
      const std::string base = t.name.substr(0, t.name.size() - std::string(".weight").size());
      const int rows = static_cast<int>(t.shape[0]), cols = static_cast<int>(t.shape[1]);
      const std::vector<float> values = rows_as_float(t, pool);
      if (awq) {
        Int4Matrix m;
        m.rows = rows;
        m.cols = cols;
        m.q.resize(values.size());
        m.zeros.resize(static_cast<std::size_t>(rows) * m.groups());
        m.scales.resize(m.zeros.size());
        pool.run(rows, [&](int r, int) {
          for (int g = 0; g < m.groups(); ++g) {
            const std::size_t at =
                static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(g) * kInt4Group;
            const std::size_t gi = static_cast<std::size_t>(r) * m.groups() + g;
            const float s = quantize_int4_group(std::span(values).subspan(at, kInt4Group),
                                                std::span(m.q).subspan(at, kInt4Group), m.zeros[gi]);
            m.scales[gi] = f32_to_f16(s);
          }
        });
        const AwqTensors packed = pack_awq(m);
        writer.write(base + ".qweight", packed.qweight.data(), packed.qweight.size() * 4);
        writer.write(base + ".qzeros", packed.qzeros.data(), packed.qzeros.size() * 4);
        writer.write(base + ".scales", packed.scales.data(), packed.scales.size() * 2);
      } else {
        std::vector<int8_t> q(values.size());
        std::vector<float> scales(rows);
        pool.run(rows, [&](int r, int) {
          const std::size_t at = static_cast<std::size_t>(r) * cols;
          scales[r] = quantize_int8_row(std::span(values).subspan(at, cols), std::span(q).subspan(at, cols));
        });
        writer.write(base + ".qweight", q.data(), q.size());
        writer.write(base + ".scales", scales.data(), scales.size() * 4);
      }
    }
    done += t.bytes;
    if (options.progress) options.progress(std::min(done, total), total);
  }
  writer.finish();

  write_json_file(out / "config.json", to_json(quantized));
  for (const auto& entry : std::filesystem::directory_iterator(source.dir())) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name == "config.json" || name.ends_with(".safetensors") ||
        name == "model.safetensors.index.json") {
      continue;
    }
    std::filesystem::copy_file(entry.path(), out / name, std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace agentrt::engine
