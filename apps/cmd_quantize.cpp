// `agentrt quantize`: writes a quantized copy of a dense checkpoint (int4 in the AutoAWQ GEMM layout, or
// int8), so that a model is quantized once and then loads fast and small (engine/quantized_writer.h).
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/command.h"
#include "engine/checkpoint.h"
#include "engine/progress.h"
#include "engine/quantized_writer.h"

namespace agentrt::apps {
namespace {

struct QuantizeArgs {
  std::string model;
  std::string out;
  std::string weights;
  int threads = 0;
};

engine::QuantMethod parse_method(const std::string& weights) {
  if (weights == "int4") return engine::QuantMethod::Awq;
  if (weights == "int8") return engine::QuantMethod::Int8;
  throw std::invalid_argument("--weights must be int4 (AWQ layout) or int8, not '" + weights + "'");
}

void run(const QuantizeArgs& args) {
  engine::QuantizeOptions options;
  options.method = parse_method(args.weights);
  options.threads = args.threads;
  const auto checkpoint = engine::Checkpoint::open(args.model);
  engine::ProgressBar bar("quantizing to " + args.out, engine::ProgressBar::stderr_is_terminal());
  options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  engine::write_quantized_checkpoint(*checkpoint, args.out, options);
  bar.finish();
  const auto written = engine::Checkpoint::open(args.out);
  std::printf("wrote %s: %s, %s (from %s, %s)\n", args.out.c_str(), written->dtype_summary().c_str(),
              engine::format_bytes(written->weight_bytes()).c_str(), args.model.c_str(),
              engine::format_bytes(checkpoint->weight_bytes()).c_str());
}

const CommandRegistrar registrar(64, [](CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  auto* cmd = app.add_subcommand(
      "quantize",
      "Write a quantized copy of a checkpoint: int4 (AutoAWQ GEMM layout) or int8, round to nearest");
  cmd->add_option("--model", args->model, "dense checkpoint folder (bf16/fp16/fp32)")->required();
  cmd->add_option("--weights", args->weights, "int4 (groups of 128 with zero points) | int8 (per output row)")
      ->required();
  cmd->add_option("--out", args->out, "output folder (must not exist or be empty)")->required();
  cmd->add_option("--threads", args->threads, "CPU threads (default: all)");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace agentrt::apps
