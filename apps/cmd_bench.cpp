// `agentrt bench`: prefill and decode speed of a checkpoint (or a preset made on the fly) as JSON, with the
// machine's memory bandwidth measured in the same run and decode speed as a fraction of the bound it sets.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/memory_bandwidth.h"
#include "engine/model.h"
#include "engine/model_maker.h"
#include "engine/progress.h"
#ifdef AGENTRT_HAVE_CUDA
#include "engine/cuda/cuda_bench.h"
#endif

namespace agentrt::apps {
namespace {

struct BenchArgs {
  std::string model;
  std::string preset;
  std::string backend = "cpu";
  int prompt_len = 512;
  int gen = 32;
  int batch = 1;
  int threads = 0;
  std::string weights = "auto";
  std::string kv_cache = "auto";
  std::string prefill_activations = "auto";
  bool map_weights = false;
  int decode_context = -1;  // -1: decode continues the prefilled sequences
  bool bandwidth_only = false;
};

// Peak resident memory since the last reset (VmHWM), in bytes.
uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// Starts peak-RSS accounting afresh (Linux: "5" > /proc/self/clear_refs), so the bandwidth buffer is not
// counted.
void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

std::vector<int32_t> bench_prompt(int length, int vocab, int salt) {
  std::vector<int32_t> ids{1};
  uint64_t state = 12345 + salt;
  while (static_cast<int>(ids.size()) < length) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    ids.push_back(static_cast<int32_t>(3 + (state >> 33) % static_cast<uint64_t>(vocab - 9)));
  }
  return ids;
}

// CPU time this process has used (all threads), to show how much of the machine the run really had.
double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The CUDA bench: random weights of a preset's shape made on the GPU (nothing written to disk) or a
// checkpoint; decode at batch 1/8/32/64, prefill at 512/2048/8192 tokens, with the GPU's copy bandwidth and
// GEMM rate measured in the same run.
void run_cuda(const BenchArgs& args) {
#ifdef AGENTRT_HAVE_CUDA
  engine::cuda::CudaBenchOptions options;
  options.decode_steps = args.gen;
  options.decode_context = args.prompt_len;
  const engine::cpu::WeightFormat weights = engine::parse_weight_format(args.weights);
  options.backend.weights = weights == engine::cpu::WeightFormat::Int8   ? engine::cuda::GpuWeights::Int8
                            : weights == engine::cpu::WeightFormat::Int4 ? engine::cuda::GpuWeights::Int4
                                                                         : engine::cuda::GpuWeights::Bf16;
  const engine::ModelConfig config =
      args.preset.empty() ? engine::load_model_config(args.model) : engine::preset_config(args.preset);
  const auto out = engine::cuda::run_cuda_bench(config, args.model, options);
  std::printf("%s\n", out.dump(2).c_str());
#else
  (void)args;
  throw std::invalid_argument(
      "--backend cuda: this build has no CUDA backend (configure with -DAGENTRT_CUDA=ON and the CUDA "
      "toolkit)");
#endif
}

nlohmann::json probe_json(const engine::cpu::BandwidthResult& probe) {
  return {{"best_gb_s", probe.bytes_per_second / 1e9},
          {"median_gb_s", probe.median_bytes_per_second / 1e9},
          {"worst_gb_s", probe.worst_bytes_per_second / 1e9}};
}

// The read-rate probe alone: what a comparison with another engine records next to that engine's runs, since
// the rate this machine gives a process changes from minute to minute (docs/engine.md).
void run_bandwidth_only(const BenchArgs& args) {
  engine::cpu::ThreadPool pool(args.threads);
  const auto probe = engine::cpu::measure_read_bandwidth(pool);
  nlohmann::ordered_json out;
  out["memory_bandwidth_gb_s"] = probe.bytes_per_second / 1e9;
  out["memory_bandwidth_threads"] = probe.threads;
  out["memory_bandwidth_method"] = probe.method;
  out["memory_bandwidth_probes"] = nlohmann::json::array({probe_json(probe)});
  std::printf("%s\n", out.dump(2).c_str());
}

void run(const BenchArgs& args) {
  if (args.bandwidth_only) {
    if (!args.model.empty() || !args.preset.empty() || args.backend != "cpu")
      throw std::invalid_argument("--bandwidth-only measures the CPU's read rate and takes no model");
    return run_bandwidth_only(args);
  }
  if (args.model.empty() == args.preset.empty())
    throw std::invalid_argument("give exactly one of --model and --preset");
  if (args.backend != "cpu" && args.backend != "cuda")
    throw std::invalid_argument("--backend must be cpu or cuda, not '" + args.backend + "'");
  if (args.prompt_len < 1 || args.gen < 1 || args.batch < 1) {
    throw std::invalid_argument("--prompt-len, --gen and --batch must be positive");
  }
  if (args.backend == "cuda") return run_cuda(args);
  std::filesystem::path dir = args.model;
  std::filesystem::path made;
  if (!args.preset.empty()) {
    made = std::filesystem::temp_directory_path() /
           ("agentrt-bench-" + args.preset + "-" + std::to_string(::getpid()));
    engine::MakeModelOptions options;
    options.config = engine::preset_config(args.preset);
    engine::ProgressBar bar("making " + args.preset, engine::ProgressBar::stderr_is_terminal());
    options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    engine::make_model(made, options);
    dir = made;
  }
  struct Cleanup {
    std::filesystem::path path;
    ~Cleanup() {
      std::error_code ignored;
      if (!path.empty()) std::filesystem::remove_all(path, ignored);
    }
  } cleanup{made};

  // The bandwidth is measured before loading and again after decoding; the bound is the best of both (the
  // bandwidth this machine gives a process varies while other work runs).
  nlohmann::ordered_json out;
  std::vector<engine::cpu::BandwidthResult> probes;
  {
    engine::cpu::ThreadPool pool(args.threads);
    probes.push_back(engine::cpu::measure_read_bandwidth(pool));
    out["memory_bandwidth_gb_s"] = probes.back().bytes_per_second / 1e9;
    out["memory_bandwidth_threads"] = probes.back().threads;
    out["memory_bandwidth_method"] = probes.back().method;
    out["peak_gflop_s"] = engine::cpu::measure_peak_flops(pool, engine::cpu::best_kernels()) / 1e9;
  }
  reset_peak_rss();

  engine::ModelOptions options;
  options.threads = args.threads;
  options.progress = true;
  options.weights = args.weights;
  options.kv_cache = args.kv_cache;
  options.prefill_activations = args.prefill_activations;
  options.map_weights = args.map_weights;
  const auto load_start = std::chrono::steady_clock::now();
  auto model = engine::Model::load(dir, options);
  const double load_seconds = seconds_since(load_start);
  auto& backend = model->backend();
  const auto& c = model->config();
  const auto& ckpt = model->checkpoint();
  const int vocab = c.vocab_size;
  // cpu_share below: CPU time used / (wall time x threads); well under 1 means other processes had the cores.
  const int backend_threads =
      args.threads > 0 ? args.threads : static_cast<int>(std::thread::hardware_concurrency());

  out["model"] = dir.string();
  out["backend"] = backend.name();
  out["shape"] = {{"layers", c.num_hidden_layers},       {"hidden", c.hidden_size},
                  {"heads", c.num_attention_heads},      {"kv_heads", c.num_key_value_heads},
                  {"intermediate", c.intermediate_size}, {"vocab", vocab}};
  out["dtype"] = ckpt.dtype_summary();
  const auto* cpu_backend = dynamic_cast<const engine::cpu::CpuBackend*>(&backend);
  if (cpu_backend != nullptr) {
    out["weights"] = cpu_backend->weights().summary();
    out["kernels"] = cpu_backend->kernels().name;
  }
  out["kv_cache"] = args.kv_cache;
  out["prefill_activations"] = args.prefill_activations;
  out["map_weights"] = args.map_weights;
  out["parameters"] = c.parameter_count();
  out["weight_bytes"] = ckpt.weight_bytes();
  out["load_seconds"] = load_seconds;

  // Prefill: one sequence of prompt_len tokens (per batch entry), logits of the last position.
  std::vector<std::unique_ptr<engine::KvCache>> caches;
  std::vector<float> logits(static_cast<std::size_t>(args.batch) * vocab);
  double prefill_seconds = 0;
  const double prefill_cpu_start = cpu_seconds();
  for (int b = 0; b < args.batch; ++b) {
    caches.push_back(backend.new_cache());
    const auto prompt = bench_prompt(args.prompt_len, vocab, b);
    const auto start = std::chrono::steady_clock::now();
    backend.prefill(*caches.back(), prompt, engine::LogitsFor::Last, std::span(logits).first(vocab));
    prefill_seconds += seconds_since(start);
  }
  const double prefill_tokens = static_cast<double>(args.prompt_len) * args.batch;
  // A forward pass costs about 2 FLOP per parameter per token (embedding lookup excluded).
  const double flop_per_token =
      2.0 * static_cast<double>(c.parameter_count() - static_cast<int64_t>(vocab) * c.hidden_size);
  out["prefill"] = {{"tokens", prefill_tokens},
                    {"seconds", prefill_seconds},
                    {"tokens_per_s", prefill_tokens / prefill_seconds},
                    {"gflop_per_s", prefill_tokens * flop_per_token / prefill_seconds / 1e9},
                    {"fraction_of_bound", prefill_tokens * flop_per_token / prefill_seconds / 1e9 /
                                              out["peak_gflop_s"].get<double>()},
                    {"cpu_share", (cpu_seconds() - prefill_cpu_start) / (prefill_seconds * backend_threads)}};

  // Decode: gen steps, all sequences in one batch per step; with --decode-context, from fresh sequences of
  // that many prompt tokens instead of the prefilled ones.
  if (args.decode_context >= 0) {
    for (int b = 0; b < args.batch; ++b) {
      caches[b] = backend.new_cache();
      if (args.decode_context > 0) {
        const auto prompt = bench_prompt(args.decode_context, vocab, 100 + b);
        backend.prefill(*caches[b], prompt, engine::LogitsFor::Last, std::span(logits).first(vocab));
      }
    }
  }
  std::vector<engine::KvCache*> batch;
  for (auto& cache : caches) batch.push_back(cache.get());
  std::vector<int32_t> tokens(args.batch, 3);
  const auto start = std::chrono::steady_clock::now();
  const double decode_cpu_start = cpu_seconds();
  for (int step = 0; step < args.gen; ++step) {
    backend.decode(batch, tokens, logits);
    for (int b = 0; b < args.batch; ++b) {
      const float* row = &logits[static_cast<std::size_t>(b) * vocab];
      tokens[b] = static_cast<int32_t>(std::max_element(row, row + vocab) - row);
    }
  }
  const double decode_seconds = seconds_since(start);
  const double decode_cpu = cpu_seconds() - decode_cpu_start;
  const double steps_per_s = args.gen / decode_seconds;
  // Bytes one step reads: the weights as the backend holds them, and the KV cache at the average context.
  const double weight_bytes_per_step =
      static_cast<double>(cpu_backend != nullptr ? cpu_backend->weights().decode_bytes_per_token()
                                                 : ckpt.decode_bytes_per_token());
  const int context_start = args.decode_context >= 0 ? args.decode_context : args.prompt_len;
  const double kv_bytes_per_step = cpu_backend != nullptr
                                       ? static_cast<double>(cpu_backend->kv_bytes_per_position()) *
                                             (context_start + (args.gen + 1) / 2.0) * args.batch
                                       : 0.0;
  const double bytes_per_step = weight_bytes_per_step + kv_bytes_per_step;
  const uint64_t peak = peak_rss_bytes();
  {
    engine::cpu::ThreadPool pool(args.threads);
    probes.push_back(engine::cpu::measure_read_bandwidth(pool));
  }
  double best_bandwidth = 0;
  nlohmann::json spread = nlohmann::json::array();
  for (const auto& p : probes) {
    best_bandwidth = std::max(best_bandwidth, p.bytes_per_second);
    spread.push_back(probe_json(p));
  }
  out["memory_bandwidth_gb_s"] = best_bandwidth / 1e9;
  out["memory_bandwidth_probes"] = spread;
  const double bound_steps_per_s = best_bandwidth / bytes_per_step;
  out["decode"] = {{"batch", args.batch},
                   {"steps", args.gen},
                   {"context_start", context_start},
                   {"seconds", decode_seconds},
                   {"tokens_per_s", steps_per_s * args.batch},
                   {"steps_per_s", steps_per_s},
                   {"weight_bytes_per_step", weight_bytes_per_step},
                   {"kv_bytes_per_step", kv_bytes_per_step},
                   {"bound_steps_per_s", bound_steps_per_s},
                   {"fraction_of_bound", steps_per_s / bound_steps_per_s},
                   {"effective_gb_s", steps_per_s * bytes_per_step / 1e9},
                   {"cpu_share", decode_cpu / (decode_seconds * backend_threads)}};
  out["peak_rss_bytes"] = peak;
  out["peak_rss_over_weights"] = static_cast<double>(peak) / static_cast<double>(ckpt.weight_bytes());
  std::printf("%s\n", out.dump(2).c_str());
}

const CommandRegistrar registrar(63, [](CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Prefill/decode speed as JSON, with the memory-bandwidth bound");
  cmd->add_option("--model", args->model, "checkpoint directory");
  cmd->add_option("--preset", args->preset,
                  "make a random checkpoint of this preset first (tiny|1_8b|7b|20b)");
  cmd->add_option(
      "--backend", args->backend,
      "cpu (default) or cuda (decode at batch 1/8/32/64, prefill at 512/2048/8192, with the GPU's "
      "copy bandwidth and GEMM rate)");
  cmd->add_option("--prompt-len", args->prompt_len,
                  "prefill length (default 512; cuda: each sequence's context before decoding)");
  cmd->add_option("--gen", args->gen, "decode steps (default 32)");
  cmd->add_option("--batch", args->batch, "sequences decoded together (default 1; cpu only)");
  cmd->add_option("--threads", args->threads, "CPU threads (default: all)");
  cmd->add_option("--weights", args->weights, "auto (as stored) | int8 | int4 (quantized at load)");
  cmd->add_option("--kv-cache", args->kv_cache, "auto (fp32) | int8 (cpu)");
  cmd->add_option(
      "--prefill-activations", args->prefill_activations,
      "auto = bf16 | fp32 (cpu: bf16 rounds the activations for bf16 and int8/int4 weights, doubling the "
      "multiply rate where the CPU has AVX512_BF16)");
  cmd->add_flag("--map-weights", args->map_weights,
                "cpu: multiply by the dense weights in place from the mapped checkpoint instead of copies on "
                "huge pages (slower decode; nothing copied at load)");
  cmd->add_option("--decode-context", args->decode_context,
                  "decode from fresh sequences of N prompt tokens (default: continue the prefilled ones)");
  cmd->add_flag("--bandwidth-only", args->bandwidth_only,
                "cpu: measure only the memory read rate (--threads threads) and print it; no model");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace agentrt::apps
