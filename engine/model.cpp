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

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir, const ModelOptions& options) {
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
        "backend 'cuda': this build has no CUDA backend (configure with -DAGENTRT_CUDA=ON and the CUDA toolkit)");
  }
  if (options.backend != "cpu") {
    throw std::invalid_argument("unknown backend '" + options.backend + "' (available: cpu)");
  }
#endif
  const auto start = std::chrono::steady_clock::now();
  ProgressBar bar("loading " + dir.filename().string(),
                  options.progress && ProgressBar::stderr_is_terminal());
  LoadOptions load;
  load.prefault = options.prefault;
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
  if (options.backend == "cuda") model->backend_ = std::make_unique<cuda::CudaBackend>(checkpoint);
#endif
  if (!model->backend_) {
    cpu::CpuBackendOptions cpu_options;
    cpu_options.threads = options.threads;
    model->backend_ = std::make_unique<cpu::CpuBackend>(checkpoint, cpu_options);
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
