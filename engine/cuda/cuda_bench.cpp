#include "engine/cuda/cuda_bench.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "engine/checkpoint.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/device_memory.h"
#include "kernels/kernels.h"

namespace agentrt::engine::cuda {
namespace {

constexpr int kTimedRuns = 10;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Times `work` (enqueued on `stream`) with events: one warm-up, then the median of kTimedRuns, in seconds.
template <typename Work>
double time_on_stream(cudaStream_t stream, Work&& work) {
  cudaEvent_t start = nullptr, stop = nullptr;
  check_cuda(cudaEventCreate(&start), "creating an event");
  check_cuda(cudaEventCreate(&stop), "creating an event");
  std::vector<double> seconds;
  try {
    work();
    for (int run = 0; run < kTimedRuns; ++run) {
      check_cuda(cudaEventRecord(start, stream), "recording an event");
      work();
      check_cuda(cudaEventRecord(stop, stream), "recording an event");
      check_cuda(cudaEventSynchronize(stop), "timing");
      float ms = 0;
      check_cuda(cudaEventElapsedTime(&ms, start, stop), "timing");
      seconds.push_back(ms / 1e3);
    }
  } catch (...) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return median(seconds);
}

struct Stream {
  cudaStream_t handle = nullptr;
  explicit Stream(int device) {
    check_cuda(cudaSetDevice(device), "selecting the GPU");
    check_cuda(cudaStreamCreateWithFlags(&handle, cudaStreamNonBlocking), "creating a stream");
  }
  ~Stream() { cudaStreamDestroy(handle); }
};

std::vector<int32_t> bench_prompt(int length, int vocab, int salt) {
  std::vector<int32_t> ids{1};
  uint64_t state = 12345 + static_cast<uint64_t>(salt);
  while (static_cast<int>(ids.size()) < length) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    ids.push_back(static_cast<int32_t>(3 + (state >> 33) % static_cast<uint64_t>(vocab - 9)));
  }
  return ids;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

double measure_copy_bandwidth(int device) {
  Stream stream(device);
  const std::size_t count = 256u << 20;  // 512 MiB each way: far past any L2
  DeviceBuffer<kernels::bf16> a(count, "the copy-bandwidth buffers"), b(count, "the copy-bandwidth buffers");
  check_cuda(kernels::fill_random_bf16(a.get(), static_cast<int64_t>(count), 1.0f, 7, stream.handle),
             "filling");
  const double seconds = time_on_stream(stream.handle, [&] {
    check_cuda(cudaMemcpyAsync(b.get(), a.get(), count * 2, cudaMemcpyDeviceToDevice, stream.handle),
               "the copy");
  });
  return 2.0 * static_cast<double>(count * 2) / seconds;
}

double measure_gemm_rate(int device, int n) {
  Stream stream(device);
  const std::size_t count = static_cast<std::size_t>(n) * n;
  DeviceBuffer<kernels::bf16> x(count, "the GEMM-rate matrices"), w(count, "the GEMM-rate matrices"),
      y(count, "the GEMM-rate matrices");
  // Random operands: zeros run faster than real data.
  check_cuda(kernels::fill_random_bf16(x.get(), static_cast<int64_t>(count), 1.0f, 11, stream.handle),
             "filling");
  check_cuda(kernels::fill_random_bf16(w.get(), static_cast<int64_t>(count), 1.0f, 13, stream.handle),
             "filling");
  kernels::Gemm gemm;
  const double seconds = time_on_stream(stream.handle, [&] {
    gemm.run(x.get(), w.get(), y.get(), kernels::OutType::BF16, n, n, n, stream.handle);
  });
  return 2.0 * static_cast<double>(n) * n * n / seconds;
}

nlohmann::ordered_json run_cuda_bench(const ModelConfig& config, const std::filesystem::path& model_dir,
                                      const CudaBenchOptions& options) {
  nlohmann::ordered_json out;
  const int device = options.backend.device;
  require_gpu(device);
  const double copy_bw = measure_copy_bandwidth(device);
  const double gemm_rate = measure_gemm_rate(device);
  out["copy_bandwidth_gb_s"] = copy_bw / 1e9;
  out["bf16_gemm_tflop_s"] = gemm_rate / 1e12;
  out["programmatic_dependent_launch"] = kernels::programmatic_launch_enabled();

  CudaBackendOptions backend_options = options.backend;
  const int longest_prefill =
      options.prefill_lengths.empty()
          ? 1
          : *std::max_element(options.prefill_lengths.begin(), options.prefill_lengths.end());
  backend_options.prefill_chunk = std::max(backend_options.prefill_chunk, longest_prefill);
  const auto load_start = std::chrono::steady_clock::now();
  std::unique_ptr<CudaBackend> backend;
  if (model_dir.empty()) {
    backend = std::make_unique<CudaBackend>(config, 1, backend_options);
  } else {
    LoadOptions load;
    load.prefault = true;
    backend = std::make_unique<CudaBackend>(
        std::shared_ptr<const Checkpoint>(Checkpoint::open(model_dir, load)), backend_options);
  }
  const ModelConfig& c = backend->config();
  const int vocab = c.vocab_size;
  out["load_seconds"] = seconds_since(load_start);
  out["backend"] = backend->name();
  out["device"] = backend->device_name();
  out["weights"] = model_dir.empty() ? "random" : model_dir.string();
  out["linear_weights"] = gpu_weights_name(backend_options.weights);
  out["shape"] = {{"layers", c.num_hidden_layers},       {"hidden", c.hidden_size},
                  {"heads", c.num_attention_heads},      {"kv_heads", c.num_key_value_heads},
                  {"intermediate", c.intermediate_size}, {"vocab", vocab}};
  const MemoryPlan& plan = backend->memory_plan();
  out["memory"] = {{"weight_bytes", plan.weight_bytes},
                   {"activation_bytes", plan.activation_bytes},
                   {"kv_cache_bytes", plan.kv_block_bytes * plan.kv_blocks},
                   {"kv_cache_positions", plan.kv_blocks * backend_options.kv_block_size}};

  // Prefill: one sequence per length, logits of the last position; TTFT is the time until those logits are on
  // the host. FLOP: 2 per weight per token (embeddings excluded) plus causal attention.
  std::vector<float> logits(
      static_cast<std::size_t>(vocab) *
      std::max(1, options.decode_batches.empty()
                      ? 1
                      : *std::max_element(options.decode_batches.begin(), options.decode_batches.end())));
  const double matrix_flop_per_token =
      2.0 * static_cast<double>(c.parameter_count() - static_cast<int64_t>(vocab) * c.hidden_size);
  nlohmann::ordered_json prefills = nlohmann::ordered_json::array();
  for (const int length : options.prefill_lengths) {
    const auto prompt = bench_prompt(length, vocab, length);
    std::vector<double> seconds;
    for (int run = 0; run <= options.repeats; ++run) {  // run 0 warms up
      auto cache = backend->new_cache();
      const auto start = std::chrono::steady_clock::now();
      backend->prefill(*cache, prompt, LogitsFor::Last, std::span(logits).first(vocab));
      if (run > 0) seconds.push_back(seconds_since(start));
    }
    const double s = median(seconds);
    const double attention_flop = 2.0 * c.num_hidden_layers * c.num_attention_heads * c.head_dim() *
                                  static_cast<double>(length) *
                                  static_cast<double>(length);  // QK^T + PV, causal half
    const double flop = matrix_flop_per_token * length + attention_flop;
    prefills.push_back({{"tokens", length},
                        {"ttft_ms", s * 1e3},
                        {"tokens_per_s", length / s},
                        {"tflop_s", flop / s / 1e12},
                        {"fraction_of_gemm_rate", flop / s / gemm_rate}});
  }
  out["prefill"] = prefills;

  // Decode: `batch` sequences of decode_context tokens each, then decode_steps greedy steps sampled on the
  // GPU. Bound: each step reads every weight but the embedding table once, plus the KV cache.
  const double weight_bytes =
      static_cast<double>(plan.weight_bytes) - static_cast<double>(vocab) * c.hidden_size * 2;
  nlohmann::ordered_json decodes = nlohmann::ordered_json::array();
  for (const int batch : options.decode_batches) {
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<KvCache*> handles;
    std::vector<int32_t> tokens;
    for (int b = 0; b < batch; ++b) {
      caches.push_back(backend->new_cache());
      handles.push_back(caches.back().get());
      backend->prefill(*caches.back(), bench_prompt(options.decode_context, vocab, b), LogitsFor::Last,
                       std::span(logits).first(vocab));
      tokens.push_back(
          static_cast<int32_t>(std::max_element(logits.begin(), logits.begin() + vocab) - logits.begin()));
    }
    // Two untimed steps: the eager run and the graph capture.
    for (int step = 0; step < 2; ++step) tokens = backend->decode_sample(handles, tokens, GpuSampling{});
    const auto start = std::chrono::steady_clock::now();
    for (int step = 0; step < options.decode_steps; ++step)
      tokens = backend->decode_sample(handles, tokens, GpuSampling{});
    const double s = seconds_since(start);
    const double steps_per_s = options.decode_steps / s;
    const double context = options.decode_context + 2 + options.decode_steps / 2.0;
    const double kv_bytes = 2.0 * c.num_hidden_layers * c.kv_dim() * 2 * context * batch;
    const double bound_steps = copy_bw / (weight_bytes + kv_bytes);
    decodes.push_back({{"batch", batch},
                       {"tokens_per_s", steps_per_s * batch},
                       {"ms_per_step", 1e3 / steps_per_s},
                       {"bytes_per_step", weight_bytes + kv_bytes},
                       {"bound_steps_per_s", bound_steps},
                       {"fraction_of_copy_bound", steps_per_s / bound_steps},
                       {"graphs", backend->captured_graphs()}});
  }
  out["decode"] = decodes;

  size_t free_bytes = 0, total_bytes = 0;
  check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "reading GPU memory");
  out["gpu_memory"] = {{"used_bytes", total_bytes - free_bytes}, {"total_bytes", total_bytes}};
  return out;
}

}  // namespace agentrt::engine::cuda
