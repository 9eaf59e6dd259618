#include "engine/cuda/cuda_backend.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace agentrt::engine::cuda {
namespace {

using kernels::bf16;
using kernels::OutType;

constexpr uint64_t kPoolReserve = 256ull << 20;  // left free when a KV pool is sized from free memory

std::size_t align_up(std::size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

int blocks_for(int64_t positions, int block_size) {
  return static_cast<int>((positions + block_size - 1) / block_size);
}

uint64_t free_gpu_memory() {
  size_t free_bytes = 0, total_bytes = 0;
  check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "reading the GPU's free memory");
  return free_bytes;
}

// The layers' format: a quantized checkpoint's own (asking for the other one is refused), else the options'.
CudaBackendOptions with_checkpoint_format(const Checkpoint& checkpoint, CudaBackendOptions options) {
  const QuantMethod method = checkpoint.config().quantization.method;
  if (method == QuantMethod::None) return options;
  const GpuWeights stored = method == QuantMethod::Awq ? GpuWeights::Int4 : GpuWeights::Int8;
  if (options.weights != GpuWeights::Bf16 && options.weights != stored) {
    throw std::invalid_argument(std::string("weights ") + gpu_weights_name(options.weights) + ": " +
                                checkpoint.dir().string() + " is an " + gpu_weights_name(stored) +
                                " checkpoint; it loads as " + gpu_weights_name(stored) + " only");
  }
  options.weights = stored;
  return options;
}

}  // namespace

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: not an error for the caller
    return 0;
  }
  return count;
}

void require_gpu(int device) {
  const int devices = device_count();
  if (devices == 0)
    throw std::runtime_error("CUDA backend: no CUDA GPU is visible (cudaGetDeviceCount found none)");
  if (device < 0 || device >= devices) {
    throw std::invalid_argument("CUDA backend: GPU " + std::to_string(device) + " does not exist (" +
                                std::to_string(devices) + " found)");
  }
}

class CudaBackend::Cache : public KvCache {
 public:
  Cache(const CudaBackend* owner, std::shared_ptr<KvBlockAllocator> allocator, int block_size)
      : owner_(owner), table_(std::move(allocator), block_size) {}
  int length() const override { return length_; }
  void truncate(int length) override {
    if (length < 0 || length > length_) throw std::invalid_argument("KvCache::truncate: length out of range");
    length_ = length;
    table_.shrink_to(length);
  }
  const CudaBackend* owner() const { return owner_; }
  BlockTable& table() { return table_; }
  void set_length(int length) { length_ = length; }

 private:
  const CudaBackend* owner_;  // compared only, never followed: a cache may outlive its backend
  BlockTable table_;
  int length_ = 0;
};

struct CudaBackend::Graph {
  cudaGraphExec_t exec = nullptr;
  ~Graph() {
    if (exec != nullptr) cudaGraphExecDestroy(exec);
  }
};

CudaBackend::CudaBackend(const ModelConfig& config, const CudaBackendOptions& options)
    : config_(config), options_(options) {
  validate_for_cuda(config_, options_);
  const int devices = device_count();
  if (devices == 0)
    throw std::runtime_error("CUDA backend: no CUDA GPU is visible (cudaGetDeviceCount found none)");
  if (options_.device >= devices) {
    throw std::invalid_argument("CUDA backend: GPU " + std::to_string(options_.device) + " does not exist (" +
                                std::to_string(devices) + " found)");
  }
  check_cuda(cudaSetDevice(options_.device), "selecting GPU " + std::to_string(options_.device));
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, options_.device), "reading the GPU's properties");
  device_name_ = prop.name;
  sm_count_ = prop.multiProcessorCount;
  if (prop.major < 8) {
    throw std::runtime_error("CUDA backend: " + device_name_ + " has compute capability " +
                             std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                             "; the kernels need 8.0 or later (bf16 tensor cores)");
  }
  plan_ = plan_memory(config_, options_, free_gpu_memory(),
                      device_name_ + " (GPU " + std::to_string(options_.device) + ")");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating a stream");
}

CudaBackend::CudaBackend(std::shared_ptr<const Checkpoint> checkpoint, const CudaBackendOptions& options)
    : CudaBackend(checkpoint->config(), with_checkpoint_format(*checkpoint, options)) {
  checkpoint_ = std::move(checkpoint);
  weights_ = options_.weights == GpuWeights::Bf16
                 ? upload_weights(*checkpoint_, stream_)
                 : upload_quantized_weights(*checkpoint_, options_.weights, stream_);
  allocate_buffers();
}

CudaBackend::CudaBackend(const ModelConfig& config, uint64_t seed, const CudaBackendOptions& options)
    : CudaBackend(config, options) {
  weights_ = options_.weights == GpuWeights::Bf16
                 ? random_weights(config_, seed, stream_)
                 : random_quantized_weights(config_, options_.weights, seed, stream_);
  allocate_buffers();
}

CudaBackend::~CudaBackend() {
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  graphs_.clear();
  gemm_.reset();
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void CudaBackend::allocate_buffers() {
  const ModelConfig& c = config_;
  const std::size_t t = max_pass_tokens(options_), h = c.hidden_size, ff = c.intermediate_size;
  const std::size_t q_dim = static_cast<std::size_t>(c.num_attention_heads) * c.head_dim();
  const std::size_t batch = options_.max_batch;
  x_ = DeviceBuffer<float>(t * h, "activations");
  delta_ = DeviceBuffer<float>(t * h, "activations");
  xn_ = DeviceBuffer<bf16>(t * h, "activations");
  qkv_ = DeviceBuffer<float>(t * c.qkv_rows(), "activations");
  q_ = DeviceBuffer<bf16>(t * q_dim, "activations");
  attn_ = DeviceBuffer<bf16>(t * q_dim, "activations");
  gate_up_ = DeviceBuffer<bf16>(t * 2 * ff, "activations");
  ffn_ = DeviceBuffer<bf16>(t * ff, "activations");
  logit_rows_ = std::max(kLogitRowsPerPass, options_.max_batch);
  logits_ = DeviceBuffer<float>(static_cast<std::size_t>(logit_rows_) * c.vocab_size, "logits");
  const std::size_t partial_rows = batch * c.num_attention_heads * kMaxDecodeSplits;
  partial_o_ = DeviceBuffer<float>(partial_rows * c.head_dim(), "decode attention scratch");
  partial_ml_ = DeviceBuffer<float>(partial_rows * 2, "decode attention scratch");
  sampled_ = DeviceBuffer<int32_t>(batch, "sampled tokens");
  uniform_ = DeviceBuffer<float>(batch, "sampling draws");
  dequantized_ = DeviceBuffer<bf16>(dequant_scratch_elements(c, options_.weights), "dequantization scratch");

  std::size_t at = 0;
  const auto place = [&](std::size_t bytes) {
    const std::size_t offset = at;
    at += align_up(bytes);
    return offset;
  };
  ids_at_ = place(t * 4);
  positions_at_ = place(t * 4);
  slots_at_ = place(t * 4);
  bases_at_ = place(t * 8);
  lengths_at_ = place(batch * 4);
  step_ = DeviceBuffer<unsigned char>(at, "per-step arrays");
  step_host_ = PinnedBuffer<unsigned char>(at, "per-step arrays");
  logits_host_ = PinnedBuffer<float>(static_cast<std::size_t>(logit_rows_) * c.vocab_size, "logits");
  sampled_host_ = PinnedBuffer<int32_t>(batch, "sampled tokens");
  gemm_ = std::make_unique<kernels::Gemm>();
}

KvPool& CudaBackend::own_pool() {
  if (own_pool_) return *own_pool_;
  // Planned at load; a block store made since may have taken part of that memory: then the pool shrinks.
  const uint64_t free_bytes = free_gpu_memory();
  int64_t blocks = plan_.kv_blocks;
  if (plan_.kv_block_bytes * blocks + kPoolReserve > free_bytes) {
    const uint64_t room = free_bytes > kPoolReserve ? free_bytes - kPoolReserve : 0;
    blocks =
        static_cast<int64_t>(static_cast<double>(room / plan_.kv_block_bytes) * options_.kv_memory_fraction);
    const int64_t min_blocks = blocks_for(options_.min_kv_tokens, options_.kv_block_size);
    if (blocks < min_blocks) {
      throw ModelDoesNotFit("no room left for the KV cache on " + device_name_ + ": " +
                            std::to_string(options_.min_kv_tokens) + " positions need " +
                            gib(plan_.kv_block_bytes * min_blocks) + ", " + gib(free_bytes) + " are free");
    }
    plan_.kv_blocks = blocks;
    plan_.max_context =
        static_cast<int>(std::min<int64_t>(plan_.max_context, blocks * options_.kv_block_size));
  }
  own_pool_ =
      std::make_unique<KvPool>(config_, static_cast<int>(blocks), options_.kv_block_size,
                               blocks_for(plan_.max_context, options_.kv_block_size), options_.max_batch);
  allocator_ = std::make_shared<KvBlockAllocator>(static_cast<int>(blocks));
  return *own_pool_;
}

std::string CudaBackend::name() const {
  return "cuda (" + device_name_ + ", " +
         (options_.weights == GpuWeights::Bf16
              ? std::string("bf16")
              : std::string(gpu_weights_name(options_.weights)) + " weights, int8 head") +
         ", KV cache " + std::to_string(plan_.kv_blocks) + " blocks x " +
         std::to_string(options_.kv_block_size) + " positions)";
}

std::unique_ptr<KvCache> CudaBackend::new_cache() {
  own_pool();
  return std::make_unique<Cache>(this, allocator_, options_.kv_block_size);
}

std::unique_ptr<KvBlockStore> CudaBackend::new_block_store(int blocks, int block_tokens) {
  if (blocks < 1 || block_tokens < 1 || block_tokens > 1024)
    throw std::invalid_argument("CUDA block store: blocks must be positive and block_tokens in [1, 1024]");
  const uint64_t bytes = kv_block_bytes(config_, block_tokens) * static_cast<uint64_t>(blocks);
  const uint64_t free_bytes = free_gpu_memory();
  if (bytes + kPoolReserve > free_bytes) {
    throw ModelDoesNotFit("a KV block store of " + std::to_string(blocks) + " blocks x " +
                          std::to_string(block_tokens) + " positions (" + gib(bytes) + ") does not fit on " +
                          device_name_ + ": " + gib(free_bytes) + " are free");
  }
  // Sequences in a store may reach max_context positions (as in the backend's own pool) or the whole store.
  const int64_t context = options_.max_context > 0
                              ? options_.max_context
                              : std::max<int64_t>(4ll * config_.max_position_embeddings, 32768);
  const int stride = std::min(blocks, blocks_for(context, block_tokens));
  return std::make_unique<CudaBlockStore>(this, config_, blocks, block_tokens, stride, options_.max_batch);
}

std::unique_ptr<PagedKvCache> CudaBackend::new_paged_cache(KvBlockStore& store) {
  auto* mine = dynamic_cast<CudaBlockStore*>(&store);
  if (mine == nullptr || mine->owner() != this)
    throw std::invalid_argument("CudaBackend: the block store was made by another backend");
  return std::make_unique<PagedKvCache>(store);
}

void CudaBackend::check_tokens(std::span<const int32_t> tokens) const {
  for (const int32_t id : tokens) {
    if (id < 0 || id >= config_.vocab_size) {
      throw std::invalid_argument("token id " + std::to_string(id) + " is outside the vocabulary of " +
                                  std::to_string(config_.vocab_size));
    }
  }
}

KvPool& CudaBackend::pool_of(KvCache& cache, int positions, const std::vector<int32_t>** table) {
  if (auto* mine = dynamic_cast<Cache*>(&cache); mine != nullptr && mine->owner() == this) {
    if (positions > plan_.max_context) {
      throw std::invalid_argument("the sequence would reach " + std::to_string(positions) +
                                  " positions, more than this backend's max_context of " +
                                  std::to_string(plan_.max_context));
    }
    mine->table().reserve(positions);  // throws KvCacheFull with nothing taken
    *table = &mine->table().blocks();
    return *own_pool_;
  }
  if (auto* paged = dynamic_cast<PagedKvCache*>(&cache); paged != nullptr) {
    auto* store = dynamic_cast<CudaBlockStore*>(&paged->store());
    if (store != nullptr && store->owner() == this) {
      const int needed = blocks_for(positions, store->block_tokens());
      if (positions > paged->capacity() || needed > store->pool().table_stride()) {
        throw std::invalid_argument("paged KV cache: the pass reaches " + std::to_string(positions) +
                                    " positions; the block table covers " +
                                    std::to_string(paged->capacity()) + " (at most " +
                                    std::to_string(store->pool().table_stride()) + " blocks)");
      }
      for (int i = 0; i < needed; ++i) {
        const int32_t id = paged->block_table()[i];
        if (id < 0 || id >= store->blocks())
          throw std::invalid_argument("paged KV cache: block id " + std::to_string(id) +
                                      " outside the store");
      }
      *table = &paged->block_table();
      return store->pool();
    }
  }
  throw std::invalid_argument("CudaBackend: the cache was made by another backend");
}

void CudaBackend::set_length(KvCache& cache, int length) {
  if (auto* mine = dynamic_cast<Cache*>(&cache); mine != nullptr) {
    mine->set_length(length);
  } else {
    static_cast<PagedKvCache&>(cache).set_length(length);  // pool_of() accepted it
  }
}

void CudaBackend::matmul(const bf16* x, const bf16* w, void* y, OutType out, int m, int n, int k) {
  if (m == 1) {
    check_cuda(kernels::gemv_bf16(w, x, y, out, n, k, stream_), "the decode GEMV");
  } else {
    gemm_->run(x, w, y, out, m, n, k, stream_);
  }
}

void CudaBackend::matmul(const bf16* x, const DeviceLinear& w, void* y, OutType out, int m) {
  switch (w.format) {
    case GpuWeights::Bf16:
      return matmul(x, w.dense.get(), y, out, m, w.rows, w.cols);
    case GpuWeights::Int8:
      return kernels::quantized_matmul(*gemm_, w.int8(), x, m, y, out, dequantized_.get(), stream_);
    case GpuWeights::Int4:
      return kernels::quantized_matmul(*gemm_, w.int4(), x, m, y, out, dequantized_.get(), stream_);
  }
}

void CudaBackend::upload_step(const KvPool& pool, int rows, int sequences, int table_entries) {
  unsigned char* device = step_.get();
  const unsigned char* host = step_host_.get();
  const auto copy = [&](void* dst, const void* src, std::size_t bytes) {
    if (bytes > 0) {
      check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_),
                 "uploading a step's arrays");
    }
  };
  for (const std::size_t at : {ids_at_, positions_at_, slots_at_}) copy(device + at, host + at, rows * 4ull);
  copy(device + bases_at_, host + bases_at_, rows * 8ull);
  copy(device + lengths_at_, host + lengths_at_, sequences * 4ull);
  copy(const_cast<int32_t*>(pool.tables()), pool.tables_host(), table_entries * 4ull);
}

void CudaBackend::run_layers(const KvPool& pool, int rows, bool decoding, int start, int splits) {
  const ModelConfig& c = config_;
  const int h = c.hidden_size, ff = c.intermediate_size, heads = c.num_attention_heads;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  unsigned char* step = step_.get();
  const auto* slots = reinterpret_cast<const int32_t*>(step + slots_at_);
  const auto* positions = reinterpret_cast<const int32_t*>(step + positions_at_);
  const auto* bases = reinterpret_cast<const double*>(step + bases_at_);
  const auto* lengths = reinterpret_cast<const int32_t*>(step + lengths_at_);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const DeviceLayer& w = weights_.layers[l];
    const kernels::PagedKv kv = pool.layer(l);
    check_cuda(kernels::add_rmsnorm(x_.get(), l == 0 ? nullptr : delta_.get(), w.attention_norm.get(),
                                    xn_.get(), rows, h, eps, stream_),
               "the attention norm");
    matmul(xn_.get(), w.wqkv, qkv_.get(), OutType::F32, rows);
    check_cuda(kernels::rope_qkv_split(qkv_.get(), q_.get(), kv, slots, positions, bases,
                                       rope_position_scale(c), rows, heads, stream_),
               "rope");
    if (decoding) {
      check_cuda(
          kernels::attention_decode(q_.get(), kv, pool.tables(), pool.table_stride(), lengths, rows, heads,
                                    splits, partial_o_.get(), partial_ml_.get(), attn_.get(), stream_),
          "decode attention");
    } else {
      check_cuda(
          kernels::attention_prefill(q_.get(), kv, pool.tables(), start, rows, heads, attn_.get(), stream_),
          "prefill attention");
    }
    matmul(attn_.get(), w.wo, delta_.get(), OutType::F32, rows);
    check_cuda(
        kernels::add_rmsnorm(x_.get(), delta_.get(), w.ffn_norm.get(), xn_.get(), rows, h, eps, stream_),
        "the FFN norm");
    if (rows == 1 && w.w13.format == GpuWeights::Bf16) {
      // batch-1 decode: SwiGLU fused into the w1/w3 GEMV, a launch fewer per layer
      check_cuda(kernels::gemv_swiglu_bf16(w.w13.dense.get(), xn_.get(), ffn_.get(), ff, h, stream_),
                 "the w1/w3 GEMV with SwiGLU");
    } else {
      matmul(xn_.get(), w.w13, gate_up_.get(), OutType::BF16, rows);
      check_cuda(kernels::swiglu(gate_up_.get(), ffn_.get(), rows, ff, stream_), "SwiGLU");
    }
    matmul(ffn_.get(), w.w2, delta_.get(), OutType::F32, rows);
  }
}

void CudaBackend::run_head(int first, int rows) {
  const std::size_t h = config_.hidden_size;
  check_cuda(kernels::add_rmsnorm(x_.get() + first * h, delta_.get() + first * h, weights_.norm.get(),
                                  xn_.get() + first * h, rows, static_cast<int>(h),
                                  static_cast<float>(config_.rms_norm_eps), stream_),
             "the final norm");
  const DeviceLinear& head = weights_.output;
  if (head.empty()) {  // tied bf16: the embedding table is the head
    matmul(xn_.get() + first * h, weights_.embeddings.get(), logits_.get(), OutType::F32, rows,
           config_.vocab_size, static_cast<int>(h));
    return;
  }
  // A quantized head runs as GEMVs of up to kMaxQuantGemvBatch rows: dequantizing the largest matrix of the
  // model would need a scratch matrix of its size, and only prefills that want every position's logits take
  // more rows than that.
  const int step = head.format == GpuWeights::Bf16 ? rows : kernels::kMaxQuantGemvBatch;
  for (int r = 0; r < rows; r += step) {
    matmul(xn_.get() + (first + r) * h, head,
           logits_.get() + static_cast<std::size_t>(r) * config_.vocab_size, OutType::F32,
           std::min(step, rows - r));
  }
}

const float* CudaBackend::fetch_logits(int first_row, int rows) {
  const std::size_t vocab = config_.vocab_size;
  check_cuda(cudaMemcpyAsync(logits_host_.get(), logits_.get() + first_row * vocab, rows * vocab * 4,
                             cudaMemcpyDeviceToHost, stream_),
             "copying logits");
  check_cuda(cudaStreamSynchronize(stream_), "the forward pass");
  return logits_host_.get();
}

void CudaBackend::copy_logits_out(int first_row, int rows, std::span<float> logits) {
  std::memcpy(logits.data(), fetch_logits(first_row, rows),
              static_cast<std::size_t>(rows) * config_.vocab_size * 4);
}

void CudaBackend::prefill(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which,
                          std::span<float> logits) {
  if (tokens.empty()) throw std::invalid_argument("prefill: no tokens");
  check_tokens(tokens);
  const std::size_t rows_out = which == LogitsFor::All ? tokens.size() : 1;
  if (logits.size() < rows_out * config_.vocab_size)
    throw std::invalid_argument("prefill: logits buffer too small");
  // HF computes the dynamic-NTK base once from the whole sequence a forward pass sees (as the CPU backend).
  prefill_pass(cache, tokens, static_cast<int64_t>(cache.length()) + static_cast<int64_t>(tokens.size()),
               which, logits);
}

void CudaBackend::prefill_pass(KvCache& cache, std::span<const int32_t> tokens, int64_t rope_length,
                               LogitsFor which, std::span<float> logits) {
  const int64_t total = static_cast<int64_t>(cache.length()) + static_cast<int64_t>(tokens.size());
  check_cuda(cudaSetDevice(options_.device), "selecting the GPU");
  const std::vector<int32_t>* table = nullptr;
  KvPool& pool = pool_of(cache, static_cast<int>(std::min<int64_t>(total, INT32_MAX)), &table);
  const int block_size = pool.block_size();
  const double base = rope_base_for_length(config_, rope_length);
  const std::size_t vocab = config_.vocab_size, chunk = options_.prefill_chunk;
  for (std::size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const int n = static_cast<int>(std::min(chunk, tokens.size() - begin));
    const int start = cache.length();
    check_cuda(cudaStreamSynchronize(stream_), "the previous pass");  // the staging buffers are free again
    unsigned char* host = step_host_.get();
    auto* ids = reinterpret_cast<int32_t*>(host + ids_at_);
    auto* positions = reinterpret_cast<int32_t*>(host + positions_at_);
    auto* slots = reinterpret_cast<int32_t*>(host + slots_at_);
    auto* bases = reinterpret_cast<double*>(host + bases_at_);
    for (int i = 0; i < n; ++i) {
      const int position = start + i;
      ids[i] = tokens[begin + i];
      positions[i] = position;
      slots[i] = (*table)[position / block_size] * block_size + position % block_size;
      bases[i] = base;
    }
    const int entries = blocks_for(start + n, block_size);
    std::copy_n(table->begin(), entries, pool.tables_host());
    upload_step(pool, n, 0, entries);
    check_cuda(kernels::embedding_gather(weights_.embeddings.get(),
                                         reinterpret_cast<const int32_t*>(step_.get() + ids_at_), x_.get(), n,
                                         config_.hidden_size, stream_),
               "the embedding lookup");
    run_layers(pool, n, false, start, 0);
    set_length(cache, start + n);
    if (which == LogitsFor::All) {
      for (int first = 0; first < n; first += logit_rows_) {
        const int rows = std::min(logit_rows_, n - first);
        run_head(first, rows);
        copy_logits_out(0, rows, logits.subspan((begin + first) * vocab, rows * vocab));
      }
    } else if (begin + n == tokens.size() && !logits.empty()) {
      run_head(n - 1, 1);
      copy_logits_out(0, 1, logits.first(vocab));
    }
  }
  check_cuda(cudaStreamSynchronize(stream_), "the prefill");
}

std::vector<CudaBackend::DecodeRow> CudaBackend::decode_rows(std::span<KvCache* const> caches,
                                                             std::span<const int32_t> tokens,
                                                             std::span<const int64_t> rope_lengths,
                                                             KvPool** pool) {
  if (caches.size() != tokens.size()) throw std::invalid_argument("decode: one token per cache");
  if (static_cast<int>(caches.size()) > options_.max_batch) {
    throw std::invalid_argument("decode: " + std::to_string(caches.size()) +
                                " sequences, more than this backend's max_batch of " +
                                std::to_string(options_.max_batch));
  }
  check_tokens(tokens);
  // Own caches grow only when the whole batch fits, so a full pool leaves every sequence as it was.
  int blocks_needed = 0;
  for (std::size_t i = 0; i < caches.size(); ++i) {
    if (caches[i] == nullptr) throw std::invalid_argument("decode: a null cache");
    if (std::find(caches.begin(), caches.begin() + static_cast<std::ptrdiff_t>(i), caches[i]) !=
        caches.begin() + static_cast<std::ptrdiff_t>(i))
      throw std::invalid_argument("decode: the same cache twice in one batch");
    if (auto* mine = dynamic_cast<Cache*>(caches[i]); mine != nullptr && mine->owner() == this) {
      blocks_needed +=
          mine->table().blocks_for(mine->length() + 1) - static_cast<int>(mine->table().blocks().size());
    }
  }
  if (allocator_ && blocks_needed > allocator_->free_count()) {
    throw KvCacheFull("KV cache full: the decode step needs " + std::to_string(blocks_needed) +
                      " more blocks, " + std::to_string(allocator_->free_count()) + " are free");
  }
  std::vector<DecodeRow> rows;
  *pool = nullptr;
  for (std::size_t i = 0; i < caches.size(); ++i) {
    const int position = caches[i]->length();
    const std::vector<int32_t>* table = nullptr;
    KvPool& p = pool_of(*caches[i], position + 1, &table);
    if (*pool != nullptr && *pool != &p)
      throw std::invalid_argument("decode: caches of different KV pools in one batch");
    *pool = &p;
    const int64_t rope = rope_lengths.empty() || rope_lengths[i] == 0 ? position + 1 : rope_lengths[i];
    rows.push_back(DecodeRow{caches[i], table, position, rope, tokens[i]});
  }
  return rows;
}

void CudaBackend::decode_step(KvPool& pool, std::span<const DecodeRow> rows) {
  const int n = static_cast<int>(rows.size());
  const int block_size = pool.block_size(), stride = pool.table_stride();
  check_cuda(cudaSetDevice(options_.device), "selecting the GPU");
  check_cuda(cudaStreamSynchronize(stream_), "the previous pass");
  unsigned char* host = step_host_.get();
  auto* ids = reinterpret_cast<int32_t*>(host + ids_at_);
  auto* positions = reinterpret_cast<int32_t*>(host + positions_at_);
  auto* slots = reinterpret_cast<int32_t*>(host + slots_at_);
  auto* bases = reinterpret_cast<double*>(host + bases_at_);
  auto* lengths = reinterpret_cast<int32_t*>(host + lengths_at_);
  for (int i = 0; i < n; ++i) {
    const DecodeRow& row = rows[i];
    ids[i] = row.token;
    positions[i] = row.position;
    slots[i] = (*row.table)[row.position / block_size] * block_size + row.position % block_size;
    bases[i] = rope_base_for_length(config_, row.rope_length);
    lengths[i] = row.position + 1;
    std::copy_n(row.table->begin(), blocks_for(row.position + 1, block_size),
                pool.tables_host() + static_cast<std::size_t>(i) * stride);
  }
  upload_step(pool, n, n, n * stride);

  const int splits = plan_decode_splits(n, config_.num_key_value_heads, sm_count_, stride);
  const auto body = [&] {
    check_cuda(kernels::embedding_gather(weights_.embeddings.get(),
                                         reinterpret_cast<const int32_t*>(step_.get() + ids_at_), x_.get(), n,
                                         config_.hidden_size, stream_),
               "the embedding lookup");
    run_layers(pool, n, true, 0, splits);
    run_head(0, n);
  };
  const auto key = std::make_pair(n, pool.id());
  if (auto it = graphs_.find(key); it != graphs_.end()) {
    check_cuda(cudaGraphLaunch(it->second->exec, stream_), "replaying the decode graph");
  } else if (options_.cuda_graphs && decode_runs_[key] >= 1) {
    // Captured on the second step of a batch size: the first one ran eagerly and set up cuBLASLt's plans.
    check_cuda(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
               "capturing the decode graph");
    cudaGraph_t graph = nullptr;
    try {
      body();
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph != nullptr) cudaGraphDestroy(graph);
      throw;
    }
    check_cuda(cudaStreamEndCapture(stream_, &graph), "capturing the decode graph");
    auto captured = std::make_unique<Graph>();
    const cudaError_t status = cudaGraphInstantiate(&captured->exec, graph, 0);
    cudaGraphDestroy(graph);
    check_cuda(status, "instantiating the decode graph");
    check_cuda(cudaGraphLaunch(captured->exec, stream_), "replaying the decode graph");
    graphs_.emplace(key, std::move(captured));
  } else {
    body();
    ++decode_runs_[key];
  }
  for (const DecodeRow& row : rows) set_length(*row.cache, row.position + 1);
}

void CudaBackend::decode(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
                         std::span<float> logits) {
  if (caches.size() != tokens.size()) throw std::invalid_argument("decode: one token per cache");
  if (tokens.empty()) return;
  if (logits.size() < tokens.size() * static_cast<std::size_t>(config_.vocab_size))
    throw std::invalid_argument("decode: logits buffer too small");
  KvPool* pool = nullptr;
  const auto rows = decode_rows(caches, tokens, {}, &pool);
  decode_step(*pool, rows);
  copy_logits_out(0, static_cast<int>(rows.size()), logits);
}

void CudaBackend::forward(std::span<const ForwardChunk> chunks, std::span<float> logits) {
  const std::size_t vocab = config_.vocab_size;
  std::vector<int> out_row(chunks.size(), -1);  // row of `logits` for chunks that want them
  int wanting = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].cache == nullptr || chunks[i].tokens.empty())
      throw std::invalid_argument("forward: a chunk without a cache or tokens");
    check_tokens(chunks[i].tokens);
    if (chunks[i].want_logits) out_row[i] = wanting++;
  }
  if (logits.size() < static_cast<std::size_t>(wanting) * vocab)
    throw std::invalid_argument("forward: logits buffer too small");
  // One-token chunks (decodes, or a prompt's last token) run as batched decode steps, each row with its own
  // rope base; longer chunks as prefills.
  std::vector<std::size_t> singles;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].tokens.size() == 1) singles.push_back(i);
  }
  for (std::size_t begin = 0; begin < singles.size(); begin += options_.max_batch) {
    const std::size_t n = std::min<std::size_t>(options_.max_batch, singles.size() - begin);
    std::vector<KvCache*> caches;
    std::vector<int32_t> tokens;
    std::vector<int64_t> ropes;
    for (std::size_t j = 0; j < n; ++j) {
      const ForwardChunk& c = chunks[singles[begin + j]];
      caches.push_back(c.cache);
      tokens.push_back(c.tokens[0]);
      ropes.push_back(c.rope_length);
    }
    KvPool* pool = nullptr;
    const auto rows = decode_rows(caches, tokens, ropes, &pool);
    decode_step(*pool, rows);
    const float* host = fetch_logits(0, static_cast<int>(n));  // one copy for the whole step
    for (std::size_t j = 0; j < n; ++j) {
      const int row = out_row[singles[begin + j]];
      if (row >= 0) std::memcpy(logits.data() + row * vocab, host + j * vocab, vocab * 4);
    }
  }
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ForwardChunk& c = chunks[i];
    if (c.tokens.size() == 1) continue;
    const int64_t rope =
        c.rope_length > 0 ? c.rope_length
                          : static_cast<int64_t>(c.cache->length()) + static_cast<int64_t>(c.tokens.size());
    prefill_pass(*c.cache, c.tokens, rope, LogitsFor::Last,
                 out_row[i] >= 0 ? logits.subspan(out_row[i] * vocab, vocab) : std::span<float>());
  }
}

std::vector<int32_t> CudaBackend::decode_sample(std::span<KvCache* const> caches,
                                                std::span<const int32_t> tokens, const GpuSampling& sampling,
                                                std::span<const float> uniform) {
  const bool greedy = sampling.temperature <= 0.0f;
  if (!greedy && uniform.size() != tokens.size())
    throw std::invalid_argument("decode_sample: one uniform draw per sequence");
  if (!greedy && !(sampling.top_p > 0.0f && sampling.top_p <= 1.0f))
    throw std::invalid_argument("decode_sample: top_p must be in (0, 1]");
  if (tokens.empty()) return {};
  KvPool* pool = nullptr;
  const auto rows = decode_rows(caches, tokens, {}, &pool);
  decode_step(*pool, rows);
  const int n = static_cast<int>(tokens.size());
  if (greedy) {
    check_cuda(kernels::argmax_rows(logits_.get(), sampled_.get(), n, config_.vocab_size, stream_), "argmax");
  } else {
    std::copy(uniform.begin(), uniform.end(), logits_host_.get());
    check_cuda(cudaMemcpyAsync(uniform_.get(), logits_host_.get(), n * 4ull, cudaMemcpyHostToDevice, stream_),
               "uploading sampling draws");
    check_cuda(
        kernels::sample_top_k_top_p(logits_.get(), uniform_.get(), sampled_.get(), n, config_.vocab_size,
                                    sampling.temperature, sampling.top_k, sampling.top_p, stream_),
        "sampling");
  }
  check_cuda(cudaMemcpyAsync(sampled_host_.get(), sampled_.get(), n * 4ull, cudaMemcpyDeviceToHost, stream_),
             "copying sampled tokens");
  check_cuda(cudaStreamSynchronize(stream_), "the decode step");
  return {sampled_host_.get(), sampled_host_.get() + n};
}

}  // namespace agentrt::engine::cuda
