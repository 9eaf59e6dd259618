// `agentrt make-model`: writes a random-weight checkpoint of a preset's shape in the real on-disk format.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/command.h"
#include "engine/model_maker.h"
#include "engine/progress.h"

namespace agentrt::apps {
namespace {

struct MakeModelArgs {
  std::string preset;
  std::string out;
  uint64_t seed = 0;
  int shards = 1;
  std::string dtype = "bf16";
  std::string rope_scaling;
  int max_position_embeddings = 0;
};

engine::DType parse_dtype(const std::string& text) {
  if (text == "bf16") return engine::DType::BF16;
  if (text == "fp16") return engine::DType::F16;
  if (text == "fp32") return engine::DType::F32;
  throw std::invalid_argument("--dtype must be bf16, fp16 or fp32, got '" + text + "'");
}

// "none", "dynamic:2.0", "linear:2.0"
void apply_rope_scaling(const std::string& text, engine::ModelConfig& config) {
  if (text.empty()) return;
  if (text == "none") {
    config.rope_scaling = engine::RopeScaling::None;
    return;
  }
  const auto colon = text.find(':');
  const std::string type = text.substr(0, colon);
  if ((type != "dynamic" && type != "linear") || colon == std::string::npos) {
    throw std::invalid_argument("--rope-scaling must be none, dynamic:FACTOR or linear:FACTOR, got '" + text +
                                "'");
  }
  config.rope_scaling = type == "dynamic" ? engine::RopeScaling::Dynamic : engine::RopeScaling::Linear;
  try {
    config.rope_scaling_factor = std::stod(text.substr(colon + 1));
  } catch (const std::exception&) {
    throw std::invalid_argument("--rope-scaling factor is not a number: '" + text + "'");
  }
}

void run(const MakeModelArgs& args) {
  engine::MakeModelOptions options;
  options.config = engine::preset_config(args.preset);
  apply_rope_scaling(args.rope_scaling, options.config);
  if (args.max_position_embeddings > 0) options.config.max_position_embeddings = args.max_position_embeddings;
  options.dtype = parse_dtype(args.dtype);
  options.shards = args.shards;
  options.seed = args.seed;
  engine::ProgressBar bar("writing " + args.out, engine::ProgressBar::stderr_is_terminal());
  options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  engine::make_model(args.out, options);
  bar.finish();
  std::printf("wrote %s: preset %s, %.1fM parameters, %s, %d shard(s), seed %llu\n", args.out.c_str(),
              args.preset.c_str(), static_cast<double>(options.config.parameter_count()) / 1e6,
              args.dtype.c_str(), args.shards, static_cast<unsigned long long>(args.seed));
}

const CommandRegistrar registrar(60, [](CLI::App& app) {
  auto args = std::make_shared<MakeModelArgs>();
  auto* cmd =
      app.add_subcommand("make-model", "Write a random-weight InternLM2 checkpoint (real on-disk format)");
  cmd->add_option("--preset", args->preset, "tiny | 1_8b | 7b | 20b")->required();
  cmd->add_option("--out", args->out, "output directory")->required();
  cmd->add_option("--seed", args->seed, "weights seed (default 0)");
  cmd->add_option("--shards", args->shards, "number of safetensors files (default 1)");
  cmd->add_option("--dtype", args->dtype, "bf16 | fp16 | fp32 (default bf16)");
  cmd->add_option("--rope-scaling", args->rope_scaling,
                  "none | dynamic:FACTOR | linear:FACTOR (default: preset's)");
  cmd->add_option("--max-position-embeddings", args->max_position_embeddings, "override the preset's value");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace agentrt::apps
