// `agentrt make-model`: writes a random-weight checkpoint of a preset's shape in the real on-disk format.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/command.h"
#include "engine/checkpoint.h"
#include "engine/model_maker.h"
#include "engine/progress.h"
#include "engine/quantized_writer.h"

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
  std::string weights = "dense";
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
  if (args.weights != "dense" && args.weights != "int4" && args.weights != "int8")
    throw std::invalid_argument("--weights must be dense, int4 or int8, not '" + args.weights + "'");
  if (args.weights != "dense") {
    // The dense checkpoint first (next to the output), then its quantized copy; the dense one is removed.
    std::error_code ec;
    if (std::filesystem::exists(args.out) && !std::filesystem::is_empty(args.out, ec))
      throw std::invalid_argument(args.out + " exists and is not empty; nothing was written");
    if (args.shards != 1)
      throw std::invalid_argument("--weights int4|int8 writes one file; leave --shards at 1");
  }
  const std::filesystem::path dense_dir =
      args.weights == "dense" ? std::filesystem::path(args.out)
                              : std::filesystem::path(args.out + ".dense-" + std::to_string(::getpid()));
  struct Cleanup {
    std::filesystem::path path;
    bool active;
    ~Cleanup() {
      std::error_code ignored;
      if (active) std::filesystem::remove_all(path, ignored);
    }
  } cleanup{dense_dir, args.weights != "dense"};
  {
    engine::ProgressBar bar("writing " + dense_dir.string(), engine::ProgressBar::stderr_is_terminal());
    options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    engine::make_model(dense_dir, options);
    bar.finish();
  }
  if (args.weights != "dense") {
    const auto checkpoint = engine::Checkpoint::open(dense_dir);
    engine::QuantizeOptions quantize;
    quantize.method = args.weights == "int4" ? engine::QuantMethod::Awq : engine::QuantMethod::Int8;
    engine::ProgressBar bar("quantizing to " + args.out, engine::ProgressBar::stderr_is_terminal());
    quantize.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    engine::write_quantized_checkpoint(*checkpoint, args.out, quantize);
    bar.finish();
  }
  std::printf(
      "wrote %s: preset %s, %.1fM parameters, %s, %d shard(s), seed %llu\n", args.out.c_str(),
      args.preset.c_str(), static_cast<double>(options.config.parameter_count()) / 1e6,
      args.weights == "dense" ? args.dtype.c_str() : (args.weights + " (" + args.dtype + " source)").c_str(),
      args.shards, static_cast<unsigned long long>(args.seed));
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
  cmd->add_option("--weights", args->weights,
                  "dense (default) | int4 (AutoAWQ GEMM layout) | int8: a quantized checkpoint of the random "
                  "weights, as `agentrt quantize` writes it");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace agentrt::apps
