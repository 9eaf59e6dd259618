// `agentrt generate`: streams a continuation of a prompt from a local checkpoint.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/app_common.h"
#include "apps/command.h"
#include "engine/generate.h"
#include "engine/model.h"

namespace agentrt::apps {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  int max_tokens = 128;
  engine::SamplingParams sampling;
  std::vector<std::string> stop;
  std::string tokens;
  bool no_bos = false;
  bool ignore_eos = false;
  bool json = false;
  int threads = 0;
  std::string weights = "auto";
  std::string kv_cache = "auto";
  std::string prefill_activations = "auto";
};

void run(const GenerateArgs& args) {
  engine::validate(args.sampling);
  engine::ModelOptions options;
  options.threads = args.threads;
  options.weights = args.weights;
  options.kv_cache = args.kv_cache;
  options.prefill_activations = args.prefill_activations;
  options.progress = true;
  auto model = engine::Model::load(args.model, options);
  const auto& tokenizer = model->tokenizer();
  if (args.prompt.empty() == args.tokens.empty())
    throw std::invalid_argument("give exactly one of --prompt and --tokens");
  const auto prompt =
      args.tokens.empty() ? tokenizer.encode(args.prompt, !args.no_bos) : parse_token_ids(args.tokens);
  engine::GenerateOptions gen;
  gen.max_tokens = args.max_tokens;
  gen.sampling = args.sampling;
  gen.stop_strings = args.stop;
  if (!args.ignore_eos) {
    gen.stop_ids = {tokenizer.eos_id()};
    if (const auto im_end = tokenizer.special_id("<|im_end|>")) gen.stop_ids.push_back(*im_end);
  }
  engine::Generator generator(model->backend(), tokenizer);
  const auto result = generator.generate(prompt, gen, [&](const engine::TokenEvent& event) {
    if (!args.json) {
      std::fwrite(event.text.data(), 1, event.text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  const double decode_tps =
      result.completion_tokens > 1 ? (result.completion_tokens - 1) / result.decode_seconds : 0;
  if (args.json) {
    nlohmann::json out{{"prompt_ids", prompt},
                       {"ids", result.ids},
                       {"text", result.text},
                       {"finish_reason", result.finish_reason},
                       {"stop", result.stop},
                       {"prompt_tokens", result.prompt_tokens},
                       {"completion_tokens", result.completion_tokens},
                       {"prefill_seconds", result.prefill_seconds},
                       {"decode_tokens_per_second", decode_tps}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr, "[%d prompt tokens in %.2f s, %d generated at %.2f tokens/s, finish: %s]\n",
                 result.prompt_tokens, result.prefill_seconds, result.completion_tokens, decode_tps,
                 result.finish_reason.c_str());
  }
}

const CommandRegistrar registrar(61, [](CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Generate text from a local checkpoint");
  cmd->add_option("--model", args->model, "checkpoint directory")->required();
  cmd->add_option("--prompt", args->prompt, "prompt text (special tokens in either spelling)");
  cmd->add_option("--tokens", args->tokens, "prompt as comma-separated token ids instead of --prompt");
  cmd->add_option("--max-tokens", args->max_tokens, "tokens to generate (default 128)");
  cmd->add_option("--temperature", args->sampling.temperature, "0 = greedy (default)");
  cmd->add_option("--top-k", args->sampling.top_k, "0 = off");
  cmd->add_option("--top-p", args->sampling.top_p, "1 = off");
  cmd->add_option("--min-p", args->sampling.min_p, "0 = off");
  cmd->add_option("--repetition-penalty", args->sampling.repetition_penalty, "1 = off");
  cmd->add_option("--presence-penalty", args->sampling.presence_penalty, "0 = off");
  cmd->add_option("--seed", args->sampling.seed, "sampling seed");
  cmd->add_option("--stop", args->stop, "stop string (repeatable)");
  cmd->add_flag("--no-bos", args->no_bos, "do not prepend <s>");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "do not stop at </s> or <|im_end|>");
  cmd->add_flag("--json", args->json,
                "print one JSON object with ids, text and timings instead of streaming");
  cmd->add_option("--threads", args->threads, "CPU threads (default: all)");
  cmd->add_option("--weights", args->weights, "auto (as stored) | int8 | int4 (quantized at load)");
  cmd->add_option("--kv-cache", args->kv_cache, "auto (fp32) | int8");
  cmd->add_option("--prefill-activations", args->prefill_activations,
                  "auto | fp32 | bf16 (see agentrt bench)");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace agentrt::apps
