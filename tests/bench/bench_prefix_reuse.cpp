// Prefix reuse across the turns of an agent trajectory. A 5-turn conversation (a long system prompt with tool
// descriptions, then per turn a tool observation or user message and a generated reply) runs through the
// serving scheduler with its prefix cache; turn 5 (history >= 4,000 tokens) is timed to its first token, side
// by side in one run with its two baselines on the same backend:
//   - new tokens only: a contiguous cache that already holds the history prefills just turn 5's new tokens
//     (the least work any engine can do; the target is within 1.2x of it);
//   - full re-prefill: the same scheduler without its prefix cache (what every turn costs without reuse).
// The model is random (engine/model_maker), InternLM2-shaped: hidden 256, 8 layers, 4 heads of 64 (2 KV
// heads), intermediate 704, vocabulary 512, bf16, no rope scaling; prefilling 4,000 tokens takes seconds on
// a 2-core machine. Prints one table; `--repeats N` new turn-5 messages (default 3), `--threads N`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/model_maker.h"
#include "engine/serving/scheduler.h"

namespace agentrt::engine {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSystemTokens = 2100;  // system prompt and tool list
constexpr int kTurnTokens = 600;     // a tool observation or user message per turn
constexpr int kReplyTokens = 32;     // generated per turn
constexpr int kTurns = 5;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<int32_t> random_tokens(int n, std::mt19937& rng, int vocab) {
  std::vector<int32_t> t(n);
  for (auto& id : t) id = 3 + static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab - 3));
  return t;
}

struct TurnResult {
  std::vector<int32_t> reply;
  double ttft = 0;
};

// Runs one turn through the scheduler to its end; the time from adding it to its first token.
TurnResult run_turn(serving::Scheduler& s, const std::vector<int32_t>& prompt, int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  TurnResult r;
  bool done = false;
  const auto t0 = Clock::now();
  s.add(
      prompt, o,
      [&](const TokenEvent&) {
        if (r.ttft == 0) r.ttft = seconds(t0, Clock::now());
        return true;
      },
      [&](GenerateResult&& result, const std::string& error) {
        if (!error.empty()) {
          std::fprintf(stderr, "turn failed: %s\n", error.c_str());
          std::exit(1);
        }
        r.reply = std::move(result.ids);
        done = true;
      });
  while (!done) s.step();
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(int repeats, int threads) {
  MakeModelOptions mo;
  mo.config = preset_config("tiny");
  mo.config.hidden_size = 256;
  mo.config.num_hidden_layers = 8;
  mo.config.num_attention_heads = 4;
  mo.config.num_key_value_heads = 2;
  mo.config.intermediate_size = 704;
  mo.config.max_position_embeddings = 8192;
  mo.config.rope_scaling = RopeScaling::None;
  mo.seed = 7;
  const auto dir =
      std::filesystem::temp_directory_path() / ("agentrt-prefix-bench-" + std::to_string(::getpid()));
  make_model(dir, mo);
  ModelOptions load;
  load.threads = threads;
  auto model = Model::load(dir, load);
  std::filesystem::remove_all(dir);
  Backend& backend = model->backend();
  const int vocab = model->config().vocab_size;
  std::printf(
      "model: random InternLM2, hidden 256, 8 layers, 4 heads (2 KV), ffn 704, vocab %d; backend %s\n", vocab,
      backend.name().c_str());

  serving::SchedulerOptions so;
  so.blocks = 2048;  // 32k positions: nothing is evicted in this run
  serving::Scheduler cached(backend, model->tokenizer(), so);
  std::mt19937 rng(11);
  std::vector<int32_t> history = random_tokens(kSystemTokens, rng, vocab);
  for (int turn = 1; turn < kTurns; ++turn) {
    if (turn > 1) {
      const auto message = random_tokens(kTurnTokens, rng, vocab);
      history.insert(history.end(), message.begin(), message.end());
    }
    const TurnResult r = run_turn(cached, history, kReplyTokens);
    std::printf("turn %d: prompt %zu tokens, first token after %.3f s\n", turn, history.size(), r.ttft);
    history.insert(history.end(), r.reply.begin(), r.reply.end());
  }
  const auto before_turn5 = cached.stats();

  // The baseline's cache holds the whole history once, prefilled outside the timing.
  auto contiguous = backend.new_cache();
  std::vector<float> logits(static_cast<std::size_t>(vocab));
  backend.prefill(*contiguous, history, LogitsFor::Last, logits);

  serving::SchedulerOptions off = so;
  off.prefix_cache = false;
  serving::Scheduler uncached(backend, model->tokenizer(), off);

  std::vector<double> with_cache, new_only, full;
  std::size_t turn5_prompt = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto message = random_tokens(kTurnTokens, rng, vocab);
    std::vector<int32_t> prompt = history;
    prompt.insert(prompt.end(), message.begin(), message.end());
    turn5_prompt = prompt.size();

    with_cache.push_back(run_turn(cached, prompt, 1).ttft);

    contiguous->truncate(static_cast<int>(history.size()));
    const auto t0 = Clock::now();
    backend.prefill(*contiguous, message, LogitsFor::Last, logits);
    new_only.push_back(seconds(t0, Clock::now()));

    full.push_back(run_turn(uncached, prompt, 1).ttft);
    std::printf("turn 5, message %d: with cache %.3f s, new tokens only %.3f s, full re-prefill %.3f s\n",
                r + 1, with_cache.back(), new_only.back(), full.back());
  }
  const auto after = cached.stats();
  const double turn5_hits = static_cast<double>(after.prefix_hit_tokens - before_turn5.prefix_hit_tokens);
  const double turn5_lookups =
      static_cast<double>(after.prefix_lookup_tokens - before_turn5.prefix_lookup_tokens);

  const double c = median(with_cache), n = median(new_only), f = median(full);
  std::printf("\nturn 5: history %zu tokens, %d new tokens, prompt %zu tokens; median of %d\n",
              history.size(), kTurnTokens, turn5_prompt, repeats);
  std::printf("  %-38s %9.3f s\n", "TTFT with the prefix cache", c);
  std::printf("  %-38s %9.3f s\n", "prefill of only the new tokens", n);
  std::printf("  %-38s %9.3f s\n", "TTFT with full re-prefill (no cache)", f);
  // Ratios per message first (the three timings of one message ran back to back, under the same load).
  std::vector<double> cached_over_new, full_over_cached;
  for (std::size_t i = 0; i < with_cache.size(); ++i) {
    cached_over_new.push_back(with_cache[i] / new_only[i]);
    full_over_cached.push_back(full[i] / with_cache[i]);
  }
  std::printf("  %-38s %9.2fx (median of per-message ratios; goal <= 1.2x)\n",
              "prefix cache / new tokens only", median(cached_over_new));
  std::printf("  %-38s %9.2fx\n", "full re-prefill / prefix cache", median(full_over_cached));
  std::printf(
      "  prefix-cache hit rate: turn 5 %.1f%% of prompt tokens; whole run %.1f%% (%lld of %lld)\n",
      100.0 * turn5_hits / turn5_lookups,
      100.0 * static_cast<double>(after.prefix_hit_tokens) / static_cast<double>(after.prefix_lookup_tokens),
      after.prefix_hit_tokens, after.prefix_lookup_tokens);
  return 0;
}

}  // namespace
}  // namespace agentrt::engine

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens, also into a file
  int repeats = 3, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg.rfind("--benchmark_", 0) == 0) {
      // `make bench` passes Google Benchmark's flags to every bench; this one times itself.
    } else {
      std::fprintf(stderr, "usage: %s [--repeats N] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  try {
    return agentrt::engine::run(repeats, threads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prefix_reuse_bench: %s\n", e.what());
    return 1;
  }
}
