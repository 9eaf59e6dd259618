// `agentrt logits`: the logits of every position of a token sequence, float32 little-endian [n_tokens,
// vocab], for checking the engine against other implementations.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/app_common.h"
#include "apps/command.h"
#include "engine/model.h"

namespace agentrt::apps {
namespace {

struct LogitsArgs {
  std::string model;
  std::string tokens;
  std::string text;
  std::string out;
  int threads = 0;
  std::string weights = "auto";
  std::string kv_cache = "auto";
  std::string prefill_activations = "auto";
};

void run(const LogitsArgs& args) {
  engine::ModelOptions options;
  options.threads = args.threads;
  options.weights = args.weights;
  options.kv_cache = args.kv_cache;
  options.prefill_activations = args.prefill_activations;
  options.progress = true;
  auto model = engine::Model::load(args.model, options);
  std::vector<int32_t> ids =
      args.tokens.empty() ? model->tokenizer().encode(args.text) : parse_token_ids(args.tokens);
  if (ids.empty()) throw std::invalid_argument("give --tokens 1,2,3 or --text TEXT");
  const int vocab = model->config().vocab_size;
  std::vector<float> logits(ids.size() * static_cast<std::size_t>(vocab));
  auto cache = model->backend().new_cache();
  model->backend().prefill(*cache, ids, engine::LogitsFor::All, logits);
  std::ofstream out(args.out, std::ios::binary);
  out.write(reinterpret_cast<const char*>(logits.data()),
            static_cast<std::streamsize>(logits.size() * sizeof(float)));
  if (!out) throw std::runtime_error(args.out + ": cannot write");
  std::printf("wrote %s: float32 [%zu, %d]\n", args.out.c_str(), ids.size(), vocab);
}

const CommandRegistrar registrar(62, [](CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  auto* cmd =
      app.add_subcommand("logits", "Write the logits of every position (float32 LE [n_tokens, vocab])");
  cmd->add_option("--model", args->model, "checkpoint directory")->required();
  cmd->add_option("--tokens", args->tokens, "comma-separated token ids");
  cmd->add_option("--text", args->text, "text to tokenize (with BOS) instead of --tokens");
  cmd->add_option("--out", args->out, "output file")->required();
  cmd->add_option("--threads", args->threads, "CPU threads (default: all)");
  cmd->add_option("--weights", args->weights, "auto (as stored) | int8 | int4 (quantized at load)");
  cmd->add_option("--kv-cache", args->kv_cache, "auto (fp32) | int8");
  cmd->add_option("--prefill-activations", args->prefill_activations,
                  "auto | fp32 | bf16 (see agentrt bench)");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace agentrt::apps
