// The engine's subcommands end to end: make-model, logits, generate and bench on the tiny preset.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "engine/model.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

const std::string kAgentrt = std::string(AGENTRT_BINARY_DIR) + "/bin/agentrt";

// Runs a command; returns its exit status and stdout.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WEXITSTATUS(status), out};
}

TEST(Cli, MakeModelThenLogitsMatchesTheLibrary) {
  const auto dir = testing::temp_dir("cli-model");
  auto [status, out] =
      run(kAgentrt + " make-model --preset tiny --out " + dir.string() + " --seed 5 --shards 2");
  ASSERT_EQ(status, 0) << out;
  EXPECT_TRUE(std::filesystem::exists(dir / "model.safetensors.index.json"));
  const auto file = dir / "logits.f32";
  std::tie(status, out) =
      run(kAgentrt + " logits --model " + dir.string() + " --tokens 1,40,41,42 --out " + file.string());
  ASSERT_EQ(status, 0) << out;
  const std::string bytes = testing::read_file(file);
  ASSERT_EQ(bytes.size(), 4u * 512 * 4);
  auto model = Model::load(dir);
  std::vector<float> expected(4 * 512);
  auto cache = model->backend().new_cache();
  const int32_t ids[] = {1, 40, 41, 42};
  model->backend().prefill(*cache, ids, LogitsFor::All, expected);
  EXPECT_EQ(std::memcmp(bytes.data(), expected.data(), bytes.size()), 0);
}

TEST(Cli, ClearErrors) {
  auto [status, out] = run(kAgentrt + " make-model --preset huge --out /tmp/x");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("agentrt: error: unknown preset 'huge' (known: tiny, 1_8b, 7b, 20b)"), std::string::npos)
      << out;
  std::tie(status, out) =
      run(kAgentrt + " logits --model " + testing::tiny_model().string() + " --tokens 1,x --out /dev/null");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("--tokens: 'x' is not a token id"), std::string::npos) << out;
  std::tie(status, out) =
      run(kAgentrt + " generate --model " + testing::tiny_model().string() + " --tokens 1,9999");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("token id 9999 is outside the vocabulary of 512"), std::string::npos) << out;
  std::tie(status, out) = run(kAgentrt + " generate --model /nonexistent --prompt hi");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("/nonexistent: not a directory"), std::string::npos) << out;
}

TEST(Cli, GenerateStreamsText) {
  auto [status, out] =
      run(kAgentrt + " generate --model " + testing::tiny_model().string() +
          " --prompt 'hello <|im_start|>' --max-tokens 5 --temperature 0.8 --top-p 0.9 --seed 3 --json");
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_LE(json["ids"].size(), 5u);
  EXPECT_EQ(json["prompt_ids"].back(), 511);
}

TEST(Cli, BenchReportsTheBound) {
  auto [status, out] = run(kAgentrt + " bench --preset tiny --prompt-len 16 --gen 4 --batch 2");
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out.substr(out.find("{\n")));
  EXPECT_GT(json["memory_bandwidth_gb_s"].get<double>(), 0.1);
  EXPECT_EQ(json["prefill"]["tokens"].get<double>(), 32.0);
  EXPECT_GT(json["decode"]["tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(json["decode"]["fraction_of_bound"].get<double>(), 0.0);
  EXPECT_GT(json["peak_gflop_s"].get<double>(), 0.1);
  EXPECT_GT(json["prefill"]["fraction_of_bound"].get<double>(), 0.0);
  EXPECT_EQ(json["decode"]["batch"], 2);
  EXPECT_GT(json["peak_rss_bytes"].get<double>(), json["weight_bytes"].get<double>());
}

TEST(Cli, BenchMeasuresTheReadRateAlone) {
  auto [status, out] = run(kAgentrt + " bench --bandwidth-only --threads 1");
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out.substr(out.find("{\n")));
  EXPECT_GT(json["memory_bandwidth_gb_s"].get<double>(), 0.1);
  EXPECT_EQ(json["memory_bandwidth_threads"], 1);
  ASSERT_EQ(json["memory_bandwidth_probes"].size(), 1u);
  EXPECT_EQ(json["memory_bandwidth_probes"][0]["best_gb_s"], json["memory_bandwidth_gb_s"]);
  EXPECT_FALSE(json.contains("decode"));
  // A model with it is a mistake, said as one.
  std::tie(status, out) = run(kAgentrt + " bench --bandwidth-only --preset tiny");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("--bandwidth-only measures the CPU's read rate and takes no model"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace agentrt::engine
