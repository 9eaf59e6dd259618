// Loading checkpoints: the good paths (single file, shards, dtypes) and every kind of broken file, each with
// its error message checked.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/checkpoint.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

std::filesystem::path copy_model(const std::filesystem::path& from, const std::string& name) {
  const auto dir = testing::temp_dir(name);
  for (const auto& entry : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(entry.path(), dir / entry.path().filename());
  }
  return dir;
}

std::string load_error(const std::filesystem::path& dir) {
  try {
    Model::load(dir);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// A safetensors file from a header and a data section.
std::string safetensors_bytes(std::string header, const std::string& data) {
  while (header.size() % 8 != 0) header += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

// Rewrites the header of a model.safetensors with `edit`, keeping the data.
void edit_header(const std::filesystem::path& file, const std::function<void(nlohmann::json&)>& edit) {
  const std::string bytes = testing::read_file(file);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[i]);
  auto header = nlohmann::json::parse(bytes.substr(8, length));
  edit(header);
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';
  testing::write_file(file, safetensors_bytes(text, bytes.substr(8 + length)));
}

TEST(Checkpoint, LoadsTheTinyModel) {
  const auto ckpt = Checkpoint::open(testing::tiny_model());
  const auto& c = ckpt->config();
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(ckpt->weights().layers.size(), 2u);
  EXPECT_EQ(ckpt->weights().layers[0].wqkv.shape, (std::vector<int64_t>{c.qkv_rows(), 64}));
  EXPECT_EQ(ckpt->dtype_summary(), "BF16");
  EXPECT_EQ(ckpt->weight_bytes(), static_cast<uint64_t>(c.parameter_count()) * 2);
}

TEST(Checkpoint, ShardedAndSingleFileHoldTheSameWeights) {
  MakeModelOptions options;
  options.config = preset_config("tiny");
  options.seed = 1;
  options.shards = 4;
  const auto sharded_dir = testing::make_test_model("sharded4", options);
  EXPECT_TRUE(std::filesystem::exists(sharded_dir / "model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(sharded_dir / "model-00004-of-00004.safetensors"));
  const auto sharded = Checkpoint::open(sharded_dir);
  const auto single = Checkpoint::open(testing::tiny_model());
  EXPECT_EQ(sharded->file_count(), 4u);
  const auto& a = sharded->weights().layers[1].w2;
  const auto& b = single->weights().layers[1].w2;
  ASSERT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(std::memcmp(a.data, b.data, a.bytes), 0);
}

TEST(Checkpoint, MissingFiles) {
  const auto dir = copy_model(testing::tiny_model(), "missing-files");
  std::filesystem::remove(dir / "tokenizer.model");
  EXPECT_NE(load_error(dir).find("tokenizer.model: missing tokenizer"), std::string::npos) << load_error(dir);
  std::filesystem::remove(dir / "model.safetensors");
  EXPECT_NE(load_error(dir).find("no model.safetensors or model.safetensors.index.json"), std::string::npos);
  std::filesystem::remove(dir / "config.json");
  EXPECT_NE(load_error(dir).find("config.json: cannot open the model config"), std::string::npos);
  EXPECT_NE(load_error(dir / "nonexistent").find("not a directory"), std::string::npos);
}

TEST(Checkpoint, TruncatedFile) {
  const auto dir = copy_model(testing::tiny_model(), "truncated");
  const std::string bytes = testing::read_file(dir / "model.safetensors");
  testing::write_file(dir / "model.safetensors", bytes.substr(0, bytes.size() - 100));
  const auto error = load_error(dir);
  EXPECT_NE(error.find("model.safetensors: truncated: tensor 'output.weight' ends at byte"),
            std::string::npos)
      << error;
  testing::write_file(dir / "model.safetensors", bytes.substr(0, 5));
  EXPECT_NE(load_error(dir).find("fewer than the 8-byte header length"), std::string::npos)
      << load_error(dir);
  testing::write_file(dir / "model.safetensors", bytes.substr(0, 40));
  EXPECT_NE(load_error(dir).find("truncated: the header needs"), std::string::npos) << load_error(dir);
}

TEST(Checkpoint, CorruptHeader) {
  const auto dir = copy_model(testing::tiny_model(), "corrupt");
  std::string bytes = testing::read_file(dir / "model.safetensors");
  bytes[8] = '[';
  testing::write_file(dir / "model.safetensors", bytes);
  EXPECT_NE(load_error(dir).find("model.safetensors: bad header: the header is not valid JSON"),
            std::string::npos)
      << load_error(dir);
  testing::write_file(dir / "model.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}");
  EXPECT_NE(load_error(dir).find("is implausible (not a safetensors file?)"), std::string::npos)
      << load_error(dir);
}

TEST(Checkpoint, MissingExtraAndMisshapenTensors) {
  const auto dir = copy_model(testing::tiny_model(), "tensors");
  const auto file = dir / "model.safetensors";
  const std::string original = testing::read_file(file);
  edit_header(file, [](nlohmann::json& h) { h.erase("model.layers.1.feed_forward.w3.weight"); });
  EXPECT_NE(load_error(dir).find("model.safetensors: missing tensor 'model.layers.1.feed_forward.w3.weight'"),
            std::string::npos)
      << load_error(dir);

  testing::write_file(file, original);
  edit_header(file, [](nlohmann::json& h) {
    // An empty tensor at the end of the data: valid safetensors, but not part of the model.
    const auto end = h["output.weight"]["data_offsets"][1];
    h["model.layers.7.attention.wq.weight"] = {
        {"dtype", "BF16"}, {"shape", {0}}, {"data_offsets", {end, end}}};
  });
  EXPECT_NE(load_error(dir).find("unexpected tensor 'model.layers.7.attention.wq.weight'"), std::string::npos)
      << load_error(dir);

  testing::write_file(file, original);
  edit_header(file, [](nlohmann::json& h) { h["model.norm.weight"]["shape"] = {32, 2}; });
  EXPECT_NE(
      load_error(dir).find("tensor 'model.norm.weight' has shape [32, 2], expected [64] from config.json"),
      std::string::npos)
      << load_error(dir);

  testing::write_file(file, original);
  edit_header(file, [](nlohmann::json& h) { h["model.norm.weight"]["shape"] = {65}; });
  EXPECT_NE(
      load_error(dir).find("bad header: tensor 'model.norm.weight' spans 128 bytes but shape [65] of BF16 "
                           "needs 130"),
      std::string::npos)
      << load_error(dir);
}

TEST(Checkpoint, UnsupportedDtype) {
  const auto dir = copy_model(testing::tiny_model(), "dtype");
  edit_header(dir / "model.safetensors", [](nlohmann::json& h) {
    h["model.norm.weight"]["dtype"] = "F64";
    h["model.norm.weight"]["shape"] = {16};
  });
  EXPECT_NE(
      load_error(dir).find("unsupported dtype 'F64' of tensor 'model.norm.weight' (supported: BF16, F16, "
                           "F32, I8, I32)"),
      std::string::npos)
      << load_error(dir);
  // I8 is a dtype of quantized tensors, never of a dense weight.
  edit_header(dir / "model.safetensors", [](nlohmann::json& h) {
    h["model.norm.weight"]["dtype"] = "I8";
    h["model.norm.weight"]["shape"] = {128};
  });
  EXPECT_NE(load_error(dir).find("tensor 'model.norm.weight' is I8; a dense weight must be BF16, F16 or F32"),
            std::string::npos)
      << load_error(dir);
}

TEST(Checkpoint, BrokenIndex) {
  MakeModelOptions options;
  options.config = preset_config("tiny");
  options.shards = 2;
  const auto dir = testing::make_test_model("broken-index", options);
  const auto index_path = dir / "model.safetensors.index.json";
  const std::string index = testing::read_file(index_path);
  std::filesystem::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_NE(load_error(dir).find("model-00002-of-00002.safetensors: missing (listed in the index)"),
            std::string::npos)
      << load_error(dir);
  auto json = nlohmann::json::parse(index);
  json["weight_map"]["output.weight"] = "model-00001-of-00002.safetensors";
  testing::write_file(index_path, json.dump());
  std::filesystem::copy_file(dir / "model-00001-of-00002.safetensors",
                             dir / "model-00002-of-00002.safetensors");
  EXPECT_NE(
      load_error(dir).find("model-00002-of-00002.safetensors: tensor 'model.layers.0.attention.wo.weight' is "
                           "listed in the index under model-00001-of-00002.safetensors"),
      std::string::npos)
      << load_error(dir);
  testing::write_file(index_path, "{\"weight_map\": 3}");
  EXPECT_NE(load_error(dir).find("model.safetensors.index.json: no \"weight_map\" object"),
            std::string::npos);
  testing::write_file(index_path, "{\"weight_map\": {\"model.norm.weight\": \"../../etc/passwd\"}}");
  EXPECT_NE(load_error(dir).find("names a bad file '../../etc/passwd'"), std::string::npos)
      << load_error(dir);
}

TEST(Checkpoint, BadConfig) {
  const auto dir = copy_model(testing::tiny_model(), "config");
  const auto config = nlohmann::json::parse(testing::read_file(dir / "config.json"));
  const auto expect_error = [&](const std::function<void(nlohmann::json&)>& edit,
                                const std::string& message) {
    auto edited = config;
    edit(edited);
    testing::write_file(dir / "config.json", edited.dump());
    EXPECT_NE(load_error(dir).find(message), std::string::npos) << load_error(dir);
  };
  expect_error([](auto& j) { j.erase("hidden_size"); }, "config.json: field \"hidden_size\" is missing");
  expect_error([](auto& j) { j["num_key_value_heads"] = 3; },
               "field \"num_key_value_heads\" (3) does not divide");
  expect_error(
      [](auto& j) {
        j["rope_scaling"] = {{"type", "yarn"}, {"factor", 2.0}};
      },
      "field \"rope_scaling\" has type \"yarn\"; supported: \"dynamic\", \"linear\"");
  expect_error([](auto& j) { j["bias"] = true; }, "field \"bias\" is true");
  expect_error([](auto& j) { j["model_type"] = "llama"; }, "only \"internlm2\" is supported");
  expect_error([](auto& j) { j["vocab_size"] = "many"; }, "field \"vocab_size\" must be a positive integer");
  expect_error([](auto& j) { j["hidden_size"] = 128; }, "has shape [512, 64], expected [512, 128]");
  testing::write_file(dir / "config.json", "{not json");
  EXPECT_NE(load_error(dir).find("config.json: not valid JSON"), std::string::npos);
}

TEST(Checkpoint, TokenizerLargerThanModelVocabulary) {
  const auto dir = copy_model(testing::tiny_model(), "vocab");
  auto config = nlohmann::json::parse(testing::read_file(dir / "config.json"));
  config["vocab_size"] = 500;
  testing::write_file(dir / "config.json", config.dump());
  // The weights no longer fit the config: the shape check speaks first.
  EXPECT_NE(
      load_error(dir).find("tensor 'model.tok_embeddings.weight' has shape [512, 64], expected [500, 64]"),
      std::string::npos)
      << load_error(dir);
}

TEST(SafetensorsHeader, OverlapsAndBadEntries) {
  const auto parse = [](const std::string& header, std::size_t data) {
    const std::string bytes = safetensors_bytes(header, std::string(data, '\0'));
    try {
      parse_safetensors_header(std::as_bytes(std::span(bytes.data(), bytes.size())));
    } catch (const CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(
      parse(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
          16),
      "bad header: tensors 'a' and 'b' overlap");
  EXPECT_EQ(parse(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
            "bad header: tensor 'a' has a shape entry that is not a non-negative integer");
  EXPECT_EQ(parse(R"({"a":{"dtype":"F32","shape":[2]}})", 8),
            "bad header: tensor 'a' has no \"data_offsets\" [begin, end] pair");
  EXPECT_EQ(parse(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
            "bad header: tensor 'a' has data_offsets with end before begin");
  EXPECT_EQ(parse(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
            "bad header: tensor 'a' has a huge shape");
  EXPECT_EQ(parse(R"({"__metadata__":{"format":1}})", 0),
            "bad header: \"__metadata__\" value of 'format' is not a string");
  EXPECT_EQ(parse(R"([1,2])", 0), "bad header: the header is not a JSON object");
  EXPECT_EQ(parse(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "(no error)");
}

}  // namespace
}  // namespace agentrt::engine
