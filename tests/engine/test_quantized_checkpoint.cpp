// Quantized checkpoints: an AWQ int4 checkpoint packed here, from known values, in the layout the spec
// describes (independently of the engine's packer), loads as published: every weight the CPU backend
// multiplies by is checked against the known (q - z) * s. Broken quantized checkpoints are refused naming the
// tensor and the reason. `quantize` writes what quantizing at load gives.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "engine/checkpoint.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/model.h"
#include "engine/quantize.h"
#include "engine/quantized_writer.h"
#include "engine/safetensors_writer.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

// A small model whose linear layers have whole groups of 128 inputs: hidden 128, intermediate 256.
ModelConfig quant_config() {
  ModelConfig c = preset_config("tiny");
  c.hidden_size = 128;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.intermediate_size = 256;
  c.rope_scaling = RopeScaling::None;
  c.max_position_embeddings = 4096;
  return c;
}

const std::filesystem::path& dense_model() {
  static const std::filesystem::path dir = [] {
    MakeModelOptions options;
    options.config = quant_config();
    options.seed = 3;
    return testing::make_test_model("quant-dense", options);
  }();
  return dir;
}

// The known int4 values of one linear layer (layer `l`, matrix `m`): q, zero and fp16 scale as functions of
// the output row r, input k and group g.
struct KnownInt4 {
  int l, m;
  uint8_t q(int r, int k) const { return static_cast<uint8_t>((r * 7 + k * 3 + l * 5 + m) % 16); }
  uint8_t zero(int r, int g) const { return static_cast<uint8_t>((r + 5 * g + m) % 16); }
  uint16_t scale(int r, int g) const {
    return f32_to_f16(0.002f * static_cast<float>(1 + (r * 3 + g + l) % 7));
  }
  float weight(int r, int k) const {
    const int g = k / 128;
    return (static_cast<float>(q(r, k)) - static_cast<float>(zero(r, g))) * f16_to_f32(scale(r, g));
  }
};

// The spec's packing, written out here: nibble i of int32 column c holds output 8c + order[i].
constexpr int kOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

struct PackedAwq {
  std::vector<int32_t> qweight, qzeros;
  std::vector<uint16_t> scales;
};

PackedAwq pack_known(const KnownInt4& known, int out, int in) {
  PackedAwq p;
  const int groups = in / 128;
  p.qweight.resize(static_cast<std::size_t>(in) * (out / 8));
  p.qzeros.resize(static_cast<std::size_t>(groups) * (out / 8));
  p.scales.resize(static_cast<std::size_t>(groups) * out);
  for (int k = 0; k < in; ++k) {
    for (int c = 0; c < out / 8; ++c) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i) word |= static_cast<uint32_t>(known.q(8 * c + kOrder[i], k)) << (4 * i);
      p.qweight[static_cast<std::size_t>(k) * (out / 8) + c] = static_cast<int32_t>(word);
    }
  }
  for (int g = 0; g < groups; ++g) {
    for (int c = 0; c < out / 8; ++c) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i) word |= static_cast<uint32_t>(known.zero(8 * c + kOrder[i], g)) << (4 * i);
      p.qzeros[static_cast<std::size_t>(g) * (out / 8) + c] = static_cast<int32_t>(word);
    }
    for (int o = 0; o < out; ++o) p.scales[static_cast<std::size_t>(g) * out + o] = known.scale(o, g);
  }
  return p;
}

struct LinearSpec {
  std::string suffix;
  int out, in;
};

std::vector<LinearSpec> linears(const ModelConfig& c) {
  return {{"attention.wqkv", c.qkv_rows(), c.hidden_size},
          {"attention.wo", c.hidden_size, c.num_attention_heads * c.head_dim()},
          {"feed_forward.w1", c.intermediate_size, c.hidden_size},
          {"feed_forward.w3", c.intermediate_size, c.hidden_size},
          {"feed_forward.w2", c.hidden_size, c.intermediate_size}};
}

void copy_side_files(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const char* name : {"tokenizer.model", "tokenizer_config.json", "generation_config.json"}) {
    if (std::filesystem::exists(from / name)) std::filesystem::copy_file(from / name, to / name);
  }
}

// An AWQ checkpoint of the known values; the dense tensors (embeddings, norms, head) from dense_model(). With
// `dense_f32`, a dense F32 checkpoint of the dequantized weights instead (the same model, unquantized).
std::filesystem::path write_known_checkpoint(const std::string& name, bool dense_f32) {
  const auto dir = testing::temp_dir(name);
  const auto source = Checkpoint::open(dense_model());
  const ModelConfig& c = source->config();
  nlohmann::json config = to_json(c);
  if (!dense_f32) {
    config["quantization_config"] = {
        {"quant_method", "awq"}, {"bits", 4}, {"group_size", 128}, {"zero_point", true}, {"version", "gemm"}};
  }
  testing::write_file(dir / "config.json", config.dump(2));
  copy_side_files(dense_model(), dir);

  std::vector<PlannedTensorEntry> plan;
  std::vector<std::function<void(SafetensorsWriter&)>> writes;
  const auto dense = [&](const TensorView& t) {
    plan.push_back({t.name, t.dtype, t.shape});
    writes.push_back([&t](SafetensorsWriter& w) { w.write(t.name, t.data, t.bytes); });
  };
  const ModelWeights& weights = source->weights();
  dense(weights.tok_embeddings);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    dense(weights.layers[l].attention_norm);
    dense(weights.layers[l].ffn_norm);
    const auto specs = linears(c);
    for (int m = 0; m < static_cast<int>(specs.size()); ++m) {
      const LinearSpec spec = specs[m];
      const std::string base = "model.layers." + std::to_string(l) + "." + spec.suffix;
      const KnownInt4 known{l, m};
      if (dense_f32) {
        plan.push_back({base + ".weight", DType::F32, {spec.out, spec.in}});
        writes.push_back([=](SafetensorsWriter& w) {
          std::vector<float> values(static_cast<std::size_t>(spec.out) * spec.in);
          for (int r = 0; r < spec.out; ++r) {
            for (int k = 0; k < spec.in; ++k)
              values[static_cast<std::size_t>(r) * spec.in + k] = known.weight(r, k);
          }
          w.write(base + ".weight", values.data(), values.size() * 4);
        });
        continue;
      }
      plan.push_back({base + ".qweight", DType::I32, {spec.in, spec.out / 8}});
      plan.push_back({base + ".qzeros", DType::I32, {spec.in / 128, spec.out / 8}});
      plan.push_back({base + ".scales", DType::F16, {spec.in / 128, spec.out}});
      writes.push_back([=](SafetensorsWriter& w) {
        const PackedAwq p = pack_known(known, spec.out, spec.in);
        w.write(base + ".qweight", p.qweight.data(), p.qweight.size() * 4);
        w.write(base + ".qzeros", p.qzeros.data(), p.qzeros.size() * 4);
        w.write(base + ".scales", p.scales.data(), p.scales.size() * 2);
      });
    }
  }
  dense(weights.norm);
  dense(weights.output);
  SafetensorsWriter writer(dir / "model.safetensors", plan);
  for (const auto& write : writes) write(writer);
  writer.finish();
  return dir;
}

const std::filesystem::path& awq_model() {
  static const std::filesystem::path dir = write_known_checkpoint("quant-awq", false);
  return dir;
}

std::string load_error(const std::filesystem::path& dir, const std::string& weights = "auto") {
  try {
    ModelOptions options;
    options.weights = weights;
    Model::load(dir, options);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AwqCheckpoint, EveryUnpackedWeightIsThePublishedOne) {
  std::shared_ptr<const Checkpoint> ckpt = Checkpoint::open(awq_model());
  EXPECT_EQ(ckpt->dtype_summary(), "int4 AWQ + BF16");
  const ModelConfig& c = ckpt->config();
  // The engine's own unpacking of the raw tensors gives back every known value.
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const auto& q = ckpt->weights().layers[l].quantized;
    const QuantizedLinear* tensors[] = {&q.wqkv, &q.wo, &q.w1, &q.w3, &q.w2};
    const auto specs = linears(c);
    for (int m = 0; m < 5; ++m) {
      const KnownInt4 known{l, m};
      const Int4Matrix plain =
          unpack_awq(static_cast<const int32_t*>(tensors[m]->qweight.data),
                     static_cast<const int32_t*>(tensors[m]->qzeros.data),
                     static_cast<const uint16_t*>(tensors[m]->scales.data), specs[m].out, specs[m].in);
      for (int r = 0; r < specs[m].out; ++r) {
        for (int k = 0; k < specs[m].in; ++k)
          ASSERT_EQ(plain.q[static_cast<std::size_t>(r) * specs[m].in + k], known.q(r, k))
              << l << m << r << k;
        for (int g = 0; g < specs[m].in / 128; ++g) {
          ASSERT_EQ(plain.zeros[static_cast<std::size_t>(r) * plain.groups() + g], known.zero(r, g));
          ASSERT_EQ(plain.scales[static_cast<std::size_t>(r) * plain.groups() + g], known.scale(r, g));
        }
      }
    }
  }
  // And every weight the CPU backend multiplies by is (q - z) * s, exactly.
  cpu::CpuBackend backend(ckpt, cpu::CpuBackendOptions{.threads = 2});
  EXPECT_EQ(backend.weights().summary(), "int4 (group 128) layers, int8 head");
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const auto& lw = backend.weights().layer(l);
    const cpu::WeightMatrix* matrices[] = {&lw.wqkv, &lw.wo, &lw.w1, &lw.w3, &lw.w2.front()};
    for (int m = 0; m < 5; ++m) {
      const KnownInt4 known{l, m};
      ASSERT_EQ(matrices[m]->format, cpu::WeightFormat::Int4);
      std::vector<float> row(matrices[m]->cols);
      for (int r = 0; r < matrices[m]->rows; ++r) {
        cpu::convert_row(*matrices[m], r, row.data());
        for (int k = 0; k < matrices[m]->cols; ++k)
          ASSERT_EQ(row[k], known.weight(r, k)) << l << " " << m << " " << r << " " << k;
      }
    }
  }
}

TEST(AwqCheckpoint, LogitsMatchTheDequantizedModel) {
  const auto dense_dir = write_known_checkpoint("quant-awq-dequantized", true);
  const std::vector<int32_t> tokens = {1,   17, 300, 45, 2,  99, 120, 7,  8,  9,
                                       410, 33, 34,  35, 36, 37, 38,  39, 40, 41};
  const int vocab = quant_config().vocab_size, n = static_cast<int>(tokens.size());
  // The quantized model keeps a dense head here, so that only the layers differ.
  cpu::CpuBackendOptions options{.threads = 2};
  options.head = cpu::WeightFormat::Dense;
  for (const bool portable : {true, false}) {
    options.portable = portable;
    cpu::CpuBackend quantized(Checkpoint::open(awq_model()), options);
    cpu::CpuBackend dense(Checkpoint::open(dense_dir), options);
    // Prefill (the fp32 or bf16 product of dequantized tiles) and one-token decode steps (the integer
    // product).
    std::vector<float> a(static_cast<std::size_t>(n) * vocab), b(a.size());
    auto ca = quantized.new_cache(), cb = dense.new_cache();
    quantized.prefill(*ca, tokens, LogitsFor::All, a);
    dense.prefill(*cb, tokens, LogitsFor::All, b);
    float max_logit = 0.0f, max_diff = 0.0f;
    for (std::size_t i = 0; i < a.size(); ++i) {
      max_logit = std::max(max_logit, std::fabs(b[i]));
      max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
    }
    // Portable: the same fp32 product of the same weights; fast: bf16-rounded activations and weights.
    EXPECT_LT(max_diff, (portable ? 1e-4f : 2e-2f) * max_logit) << "prefill, portable " << portable;
    std::vector<float> da(vocab), db(vocab);
    cpu::CpuBackend* backends[] = {&quantized, &dense};
    KvCache* caches[] = {ca.get(), cb.get()};
    for (int step = 0; step < 8; ++step) {
      const int32_t token = 50 + step;
      for (int i = 0; i < 2; ++i) {
        KvCache* one[] = {caches[i]};
        backends[i]->decode(one, std::span(&token, 1), i == 0 ? da : db);
      }
      float step_max = 0.0f, step_diff = 0.0f;
      for (int i = 0; i < vocab; ++i) {
        step_max = std::max(step_max, std::fabs(db[i]));
        step_diff = std::max(step_diff, std::fabs(da[i] - db[i]));
      }
      // Decode multiplies int8-quantized activations (groups of 128).
      EXPECT_LT(step_diff, 3e-2f * step_max) << "decode step " << step << ", portable " << portable;
    }
  }
}

// Rewrites the header of a safetensors file with `edit`, keeping the data.
void edit_header(const std::filesystem::path& file, const std::function<void(nlohmann::json&)>& edit) {
  const std::string bytes = testing::read_file(file);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[i]);
  auto header = nlohmann::json::parse(bytes.substr(8, length));
  edit(header);
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  testing::write_file(file, out + text + bytes.substr(8 + length));
}

std::filesystem::path copy_of_awq(const std::string& name) {
  const auto dir = testing::temp_dir(name);
  for (const auto& entry : std::filesystem::directory_iterator(awq_model()))
    std::filesystem::copy_file(entry.path(), dir / entry.path().filename());
  return dir;
}

void edit_config(const std::filesystem::path& dir, const std::function<void(nlohmann::json&)>& edit) {
  auto json = nlohmann::json::parse(testing::read_file(dir / "config.json"));
  edit(json);
  testing::write_file(dir / "config.json", json.dump());
}

void expect_error(const std::filesystem::path& dir, const std::string& expected,
                  const std::string& weights = "auto") {
  const std::string error = load_error(dir, weights);
  EXPECT_NE(error.find(expected), std::string::npos) << error;
}

TEST(AwqCheckpoint, BrokenCheckpointsAreRefusedNamingTensorAndReason) {
  const std::string wqkv = "model.layers.0.attention.wqkv";
  {
    const auto dir = copy_of_awq("awq-no-scales");
    edit_header(dir / "model.safetensors", [&](nlohmann::json& h) { h.erase(wqkv + ".scales"); });
    expect_error(dir, "missing tensor '" + wqkv + ".scales'");
  }
  {
    const auto dir = copy_of_awq("awq-shape");
    edit_header(dir / "model.safetensors", [&](nlohmann::json& h) {
      h[wqkv + ".qzeros"]["shape"] = {32, 1};
    });
    expect_error(dir, "tensor '" + wqkv + ".qzeros' has shape [32, 1], expected [1, 32]");
  }
  {
    const auto dir = copy_of_awq("awq-dtype");
    edit_header(dir / "model.safetensors", [&](nlohmann::json& h) { h[wqkv + ".scales"]["dtype"] = "BF16"; });
    expect_error(dir, "tensor '" + wqkv + ".scales' is BF16; expected F16");
  }
  {
    const auto dir = copy_of_awq("awq-qweight-dtype");
    edit_header(dir / "model.safetensors", [&](nlohmann::json& h) { h[wqkv + ".qweight"]["dtype"] = "F32"; });
    expect_error(dir, "tensor '" + wqkv + ".qweight' is F32; expected I32");
  }
  {
    const auto dir = copy_of_awq("awq-group");
    edit_config(dir, [](nlohmann::json& c) { c["quantization_config"]["group_size"] = 64; });
    expect_error(dir, "\"quantization_config\" has group_size 64; only 128 is supported");
  }
  {
    const auto dir = copy_of_awq("awq-method");
    edit_config(dir, [](nlohmann::json& c) { c["quantization_config"]["quant_method"] = "gptq"; });
    expect_error(dir, "has quant_method \"gptq\"; supported: \"awq\" (4-bit GEMM) and \"agentrt_int8\"");
  }
  {
    const auto dir = copy_of_awq("awq-bits");
    edit_config(dir, [](nlohmann::json& c) { c["quantization_config"]["bits"] = 8; });
    expect_error(dir, "has bits 8; AWQ checkpoints load with bits 4 only");
  }
  {
    const auto dir = copy_of_awq("awq-version");
    edit_config(dir, [](nlohmann::json& c) { c["quantization_config"]["version"] = "gemv"; });
    expect_error(dir, "has version \"gemv\"; only the \"gemm\" layout is supported");
  }
  {
    const auto dir = copy_of_awq("awq-zero-point");
    edit_config(dir, [](nlohmann::json& c) { c["quantization_config"]["zero_point"] = false; });
    expect_error(dir, "has zero_point false; only zero_point true (AutoAWQ GEMM) is supported");
  }
  {
    // A scale that is not a number, at group 0, output 5: that fp16 set to 0x7e00 in the file.
    const auto dir = copy_of_awq("awq-nan-scale");
    std::string bytes = testing::read_file(dir / "model.safetensors");
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[i]);
    const auto header = nlohmann::json::parse(bytes.substr(8, length));
    const std::size_t at =
        8 + length + header[wqkv + ".scales"]["data_offsets"][0].get<std::size_t>() + 2 * 5;
    bytes[at] = 0x00;
    bytes[at + 1] = 0x7e;
    testing::write_file(dir / "model.safetensors", bytes);
    expect_error(dir, "tensor '" + wqkv + ".scales' holds the scale nan at [0, 5]");
  }
  {
    const auto dir = copy_of_awq("awq-dense-too");
    edit_config(dir, [](nlohmann::json& c) { c.erase("quantization_config"); });
    expect_error(dir, "unexpected tensor 'model.layers.0.attention.wo.qweight'");
  }
  expect_error(awq_model(), "is an int4 AWQ checkpoint; it loads as int4 only", "int8");
  EXPECT_EQ(load_error(awq_model(), "int4"), "(no error)");
}

TEST(QuantizeCommand, WritesWhatQuantizingAtLoadGives) {
  const auto source = Checkpoint::open(dense_model());
  for (const QuantMethod method : {QuantMethod::Awq, QuantMethod::Int8}) {
    const bool int4 = method == QuantMethod::Awq;
    const auto out = testing::temp_dir(int4 ? "quantized-int4" : "quantized-int8") / "model";
    write_quantized_checkpoint(*source, out, QuantizeOptions{.method = method});
    std::shared_ptr<const Checkpoint> written = Checkpoint::open(out);
    EXPECT_EQ(written->dtype_summary(), int4 ? "int4 AWQ + BF16" : "int8 + BF16");
    EXPECT_TRUE(std::filesystem::exists(out / "tokenizer.model"));
    cpu::CpuBackendOptions options{.threads = 2};
    cpu::CpuBackend loaded(written, options);
    options.weights = int4 ? cpu::WeightFormat::Int4 : cpu::WeightFormat::Int8;
    cpu::CpuBackend at_load(Checkpoint::open(dense_model()), options);
    for (int l = 0; l < written->config().num_hidden_layers; ++l) {
      const auto& a = loaded.weights().layer(l);
      const auto& b = at_load.weights().layer(l);
      for (const auto& [x, y] :
           {std::pair{&a.wqkv, &b.wqkv}, std::pair{&a.wo, &b.wo}, std::pair{&a.w1, &b.w1},
            std::pair{&a.w3, &b.w3}, std::pair{&a.w2.front(), &b.w2.front()}}) {
        ASSERT_EQ(x->format, y->format);
        std::vector<float> rx(x->cols), ry(y->cols);
        for (int r = 0; r < x->rows; ++r) {
          cpu::convert_row(*x, r, rx.data());
          cpu::convert_row(*y, r, ry.data());
          ASSERT_EQ(rx, ry) << "layer " << l << " row " << r;
        }
      }
    }
    // The same weights give the same logits.
    const std::vector<int32_t> tokens = {1, 5, 6, 7, 300};
    const int vocab = written->config().vocab_size;
    std::vector<float> la(tokens.size() * vocab), lb(la.size());
    auto ca = loaded.new_cache(), cb = at_load.new_cache();
    loaded.prefill(*ca, tokens, LogitsFor::All, la);
    at_load.prefill(*cb, tokens, LogitsFor::All, lb);
    EXPECT_EQ(la, lb);
    // Quantized weights stay close to the dense ones: the logits of a dense model of the same seed.
    cpu::CpuBackend dense(Checkpoint::open(dense_model()), cpu::CpuBackendOptions{.threads = 2});
    std::vector<float> ld(la.size());
    auto cd = dense.new_cache();
    dense.prefill(*cd, tokens, LogitsFor::All, ld);
    float max_logit = 0.0f, max_diff = 0.0f;
    for (std::size_t i = 0; i < la.size(); ++i) {
      max_logit = std::max(max_logit, std::fabs(ld[i]));
      max_diff = std::max(max_diff, std::fabs(la[i] - ld[i]));
    }
    EXPECT_LT(max_diff, (int4 ? 0.25f : 0.05f) * max_logit) << (int4 ? "int4" : "int8");
  }
}

TEST(QuantizeCommand, RefusesWhatItCannotWrite) {
  const auto source = Checkpoint::open(dense_model());
  const auto out = testing::temp_dir("quantize-busy");
  testing::write_file(out / "keep.txt", "mine");
  try {
    write_quantized_checkpoint(*source, out, {});
    FAIL() << "wrote into a folder that was not empty";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("exists and is not empty; nothing was written"), std::string::npos);
  }
  EXPECT_EQ(testing::read_file(out / "keep.txt"), "mine");
  const auto awq = Checkpoint::open(awq_model());
  EXPECT_THROW(write_quantized_checkpoint(*awq, testing::temp_dir("quantize-twice") / "m", {}),
               std::invalid_argument);
  // The tiny preset's 64 inputs make no whole group of 128.
  const auto tiny = Checkpoint::open(testing::tiny_model());
  try {
    write_quantized_checkpoint(*tiny, testing::temp_dir("quantize-tiny") / "m", {});
    FAIL() << "quantized 64 inputs in groups of 128";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("divisible by 128"), std::string::npos) << e.what();
  }
  EXPECT_NE(load_error(testing::tiny_model(), "int4").find("not a multiple of the group size 128"),
            std::string::npos)
      << load_error(testing::tiny_model(), "int4");
}

}  // namespace
}  // namespace agentrt::engine
