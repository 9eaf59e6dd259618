#include "engine/model.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "engine/cpu/cpu_backend.h"
#ifdef AGENTRT_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif
#include "engine/progress.h"

namespace agentrt::engine {

cpu::WeightFormat parse_weight_format(const std::string& text) {
  if (text == "auto" || text.empty()) return cpu::WeightFormat::Dense;
  if (text == "int8") return cpu::WeightFormat::Int8;
  if (text == "int4") return cpu::WeightFormat::Int4;
  throw std::invalid_argument("weights must be auto, int8 or int4, not '" + text + "'");
}

cpu::KvFormat parse_kv_format(const std::string& text) {
  if (text == "auto" || text == "fp32" || text.empty()) return cpu::KvFormat::F32;
  if (text == "int8") return cpu::KvFormat::Int8;
  throw std::invalid_argument("kv-cache must be auto, fp32 or int8, not '" + text + "'");
}

cpu::PrefillActivations parse_prefill_activations(const std::string& text) {
  if (text == "auto" || text.empty()) return cpu::PrefillActivations::Auto;
  if (text == "fp32") return cpu::PrefillActivations::F32;
  if (text == "bf16") return cpu::PrefillActivations::Bf16;
  throw std::invalid_argument("prefill activations must be auto, fp32 or bf16, not '" + text + "'");
}

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir, const ModelOptions& options) {
  const cpu::WeightFormat weights = parse_weight_format(options.weights);
  const cpu::KvFormat kv_cache = parse_kv_format(options.kv_cache);
  const cpu::PrefillActivations prefill = parse_prefill_activations(options.prefill_activations);
#ifdef AGENTRT_HAVE_CUDA
  if (options.backend != "cpu" && options.backend != "cuda") {
    throw std::invalid_argument("unknown backend '" + options.backend + "' (available: cpu, cuda)");
  }
  // Said before the weights are read, not after.
  if (options.backend == "cuda" && cuda::device_count() == 0)
    throw std::runtime_error("backend 'cuda': no CUDA GPU is visible (cudaGetDeviceCount found none)");
#else
  if (options.backend == "cuda") {
    throw std::invalid_argument(
        "backend 'cuda': this build has no CUDA backend (configure with -DAGENTRT_CUDA=ON and the CUDA "
        "toolkit)");
  }
  if (options.backend != "cpu") {
    throw std::invalid_argument("unknown backend '" + options.backend + "' (available: cpu)");
  }
#endif
  const auto start = std::chrono::steady_clock::now();
  ProgressBar bar("loading " + dir.filename().string(),
                  options.progress && ProgressBar::stderr_is_terminal());
  if (options.backend == "cuda" && kv_cache != cpu::KvFormat::F32) {
    throw std::invalid_argument("--kv-cache " + options.kv_cache +
                                ": the CUDA backend keeps a bf16 KV cache");
  }
  LoadOptions load;
  load.prefault = options.prefault;
  // Converted weights are read by the conversion, and their dense pages released after it; reading them all
  // in first would only raise the peak memory.
  bool converts = weights != cpu::WeightFormat::Dense;
  try {
    converts = converts || load_model_config(dir).quantization.method != QuantMethod::None;
  } catch (const std::exception&) {
    // Checkpoint::open below reports a broken config.
  }
  // So are copied ones (CpuWeightOptions::map_weights).
  const bool copies = options.backend == "cpu" && !options.map_weights;
  load.prefault_small_only = converts || copies;
  load.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  std::shared_ptr<Checkpoint> checkpoint = Checkpoint::open(dir, load);
  bar.finish();
  Tokenizer tokenizer = Tokenizer::load(dir);
  if (tokenizer.vocab_size() > checkpoint->config().vocab_size) {
    throw std::runtime_error(
        (dir / "tokenizer.model").string() + ": " + std::to_string(tokenizer.vocab_size()) +
        " pieces, more than the model's vocab_size " + std::to_string(checkpoint->config().vocab_size));
  }
  auto model = std::unique_ptr<Model>(new Model(checkpoint, std::move(tokenizer)));
#ifdef AGENTRT_HAVE_CUDA
  if (options.backend == "cuda") {
    cuda::CudaBackendOptions cuda_options;
    cuda_options.weights = weights == cpu::WeightFormat::Int8   ? cuda::GpuWeights::Int8
                           : weights == cpu::WeightFormat::Int4 ? cuda::GpuWeights::Int4
                                                                : cuda::GpuWeights::Bf16;
    model->backend_ = std::make_unique<cuda::CudaBackend>(checkpoint, cuda_options);
  }
#endif
  if (!model->backend_) {
    cpu::CpuBackendOptions cpu_options;
    cpu_options.threads = options.threads;
    cpu_options.weights = weights;
    cpu_options.kv_cache = kv_cache;
    cpu_options.prefill_activations = prefill;
    cpu_options.map_weights = options.map_weights;
    ProgressBar convert_bar(converts ? "converting weights" : "copying weights",
                            options.progress && ProgressBar::stderr_is_terminal());
    cpu_options.progress = [&](uint64_t done, uint64_t total) { convert_bar.update(done, total); };
    model->backend_ = std::make_unique<cpu::CpuBackend>(checkpoint, cpu_options);
    convert_bar.finish();
  }

  const ModelConfig& c = checkpoint->config();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char text[512];
  std::snprintf(
      text, sizeof text,
      "loaded %s: internlm2, %d layers, hidden %d, heads %d/%d kv, ffn %d, vocab %d; %.2fB parameters, %s, "
      "%s in %zu file(s); %s backend; %.2f s",
      dir.string().c_str(), c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.num_key_value_heads,
      c.intermediate_size, c.vocab_size, static_cast<double>(c.parameter_count()) / 1e9,
      checkpoint->dtype_summary().c_str(), format_bytes(checkpoint->weight_bytes()).c_str(),
      checkpoint->file_count(), model->backend_->name().c_str(), seconds);
  model->summary_ = text;
  if (options.progress) std::fprintf(stderr, "%s\n", text);
  return model;
}

}  // namespace agentrt::engine
