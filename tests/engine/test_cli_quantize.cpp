// The quantization commands end to end: `agentrt quantize` writes an int4 (AWQ layout) or int8 checkpoint
// whose logits equal quantizing at load, `make-model --weights` writes one directly, `bench --weights` and
// `--kv-cache` report what ran, and bad requests get clear errors with nothing written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

const std::string kAgentrt = std::string(AGENTRT_BINARY_DIR) + "/bin/agentrt";

// hidden 128 and intermediate 256: whole groups of 128 inputs for int4.
const std::filesystem::path& model_128() {
  static const std::filesystem::path dir = [] {
    MakeModelOptions o;
    o.config = preset_config("tiny");
    o.config.hidden_size = 128;
    o.config.num_attention_heads = 2;
    o.config.num_key_value_heads = 1;
    o.config.intermediate_size = 256;
    o.seed = 11;
    return testing::make_test_model("cli-model-128", o);
  }();
  return dir;
}

std::string logits(const std::filesystem::path& model, const std::string& flags, const std::string& name) {
  const auto file = testing::temp_dir("cli-logits-" + name) / "logits.f32";
  const auto [status, out] =
      testing::run_command(kAgentrt + " logits --model " + model.string() +
                           " --tokens 1,40,41,42,300,7 --out " + file.string() + " " + flags);
  EXPECT_EQ(status, 0) << out;
  return testing::read_file(file);
}

TEST(CliQuantize, QuantizedCheckpointsGiveTheLogitsOfQuantizingAtLoad) {
  for (const std::string weights : {"int4", "int8"}) {
    const auto out = testing::temp_dir("cli-quantized-" + weights) / "model";
    auto [status, text] = testing::run_command(kAgentrt + " quantize --model " + model_128().string() +
                                               " --weights " + weights + " --out " + out.string());
    ASSERT_EQ(status, 0) << text;
    EXPECT_NE(text.find(weights == "int4" ? "int4 AWQ + BF16" : "int8 + BF16"), std::string::npos) << text;
    const auto config = nlohmann::json::parse(testing::read_file(out / "config.json"));
    EXPECT_EQ(config["quantization_config"]["quant_method"], weights == "int4" ? "awq" : "agentrt_int8");
    const std::string from_file = logits(out, "", weights + "-file");
    const std::string at_load = logits(model_128(), "--weights " + weights, weights + "-load");
    ASSERT_EQ(from_file.size(), 6u * 512 * 4);
    EXPECT_EQ(from_file, at_load) << weights;
    // Writing over it again is refused, and what is there stays.
    std::tie(status, text) = testing::run_command(kAgentrt + " quantize --model " + model_128().string() +
                                                  " --weights " + weights + " --out " + out.string());
    EXPECT_EQ(status, 1);
    EXPECT_NE(text.find("exists and is not empty; nothing was written"), std::string::npos) << text;
    EXPECT_EQ(logits(out, "", weights + "-again"), from_file);
  }
}

TEST(CliQuantize, MakeModelWritesQuantizedCheckpoints) {
  const auto dir = testing::temp_dir("cli-make-int8") / "model";
  auto [status, out] = testing::run_command(
      kAgentrt + " make-model --preset tiny --weights int8 --seed 2 --out " + dir.string());
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("int8 (bf16 source)"), std::string::npos) << out;
  EXPECT_EQ(logits(dir, "", "make-int8").size(), 6u * 512 * 4);
  // The dense checkpoint it starts from is gone.
  for (const auto& entry : std::filesystem::directory_iterator(dir.parent_path()))
    EXPECT_EQ(entry.path().filename(), "model") << entry.path();
  // The tiny preset's 64 inputs make no group of 128.
  std::tie(status, out) = testing::run_command(kAgentrt + " make-model --preset tiny --weights int4 --out " +
                                               (testing::temp_dir("cli-make-int4") / "model").string());
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("divisible by 128"), std::string::npos) << out;
}

TEST(CliQuantize, BenchAndLogitsTakeTheWeightAndCacheFlags) {
  auto [status, out] = testing::run_command(kAgentrt + " bench --model " + model_128().string() +
                                            " --weights int4 --kv-cache int8 --prompt-len 20 --gen 3 "
                                            "--decode-context 5");
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out.substr(out.find("{\n")));
  EXPECT_EQ(json["weights"], "int4 (group 128) layers, int8 head");
  EXPECT_EQ(json["kv_cache"], "int8");
  EXPECT_EQ(json["decode"]["context_start"], 5);
  EXPECT_GT(json["decode"]["kv_bytes_per_step"].get<double>(), 0.0);
  EXPECT_EQ(json["memory_bandwidth_probes"].size(), 2u);
  // int4 layers: a quarter of the bf16 bytes, plus the scales and an int8 head.
  EXPECT_LT(json["decode"]["weight_bytes_per_step"].get<double>(), 0.6 * json["weight_bytes"].get<double>());

  std::tie(status, out) = testing::run_command(kAgentrt + " logits --model " + model_128().string() +
                                               " --tokens 1,2 --out /dev/null --weights int3");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("weights must be auto, int8 or int4, not 'int3'"), std::string::npos) << out;
  std::tie(status, out) = testing::run_command(kAgentrt + " logits --model " + model_128().string() +
                                               " --tokens 1,2 --out /dev/null --kv-cache fp8");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("kv-cache must be auto, fp32 or int8, not 'fp8'"), std::string::npos) << out;
  std::tie(status, out) = testing::run_command(kAgentrt + " quantize --model " + model_128().string() +
                                               " --weights int2 --out /tmp/never");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("--weights must be int4 (AWQ layout) or int8, not 'int2'"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists("/tmp/never"));
}

TEST(CliQuantize, BenchMapsTheWeightsWhenAskedAndRunRefusesUnknownActivations) {
  for (const bool mapped : {false, true}) {
    auto [status, out] = testing::run_command(kAgentrt + " bench --model " + model_128().string() +
                                              " --prompt-len 20 --gen 3 --prefill-activations fp32" +
                                              (mapped ? " --map-weights" : ""));
    ASSERT_EQ(status, 0) << out;
    const auto json = nlohmann::json::parse(out.substr(out.find("{\n")));
    EXPECT_EQ(json["map_weights"], mapped);
    EXPECT_EQ(json["prefill_activations"], "fp32");
    EXPECT_GT(json["decode"]["tokens_per_s"].get<double>(), 0.0);
  }
  auto [status, out] = testing::run_command(kAgentrt + " run --model " + model_128().string() +
                                            " --prefill-activations fp16 hello");
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("prefill activations must be auto, fp32 or bf16, not 'fp16'"), std::string::npos) << out;
}

}  // namespace
}  // namespace agentrt::engine
