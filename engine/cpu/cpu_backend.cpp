#include "engine/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/qkv_layout.h"

namespace agentrt::engine::cpu {
namespace {

std::vector<float> to_f32(const TensorView& t) {
  std::vector<float> out(t.numel());
  convert_row(dense_matrix(t), 0, out.data());
  return out;
}

const Kernels& choose_kernels(const CpuBackendOptions& options) {
  if (options.portable) return portable_kernels();
  if (options.kernels.empty()) return best_kernels();
  if (const Kernels* k = kernels_by_name(options.kernels)) return *k;
  for (const KernelVariant& v : kernel_variants()) {
    if (v.name == options.kernels)
      throw std::invalid_argument("CPU kernels '" + options.kernels + "': this processor lacks " + v.missing);
  }
  throw std::invalid_argument("unknown CPU kernels '" + options.kernels +
                              "' (portable, avx2, avx512, avx512_vnni, avx512_bf16)");
}

// RMSNorm in fp32 (HF InternLM2RMSNorm): x / sqrt(mean(x^2) + eps) * weight.
void rms_norm(const float* x, const float* weight, int n, double eps, float* out) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / n + eps));
  for (int i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * scale);
}

}  // namespace

// K and V for every layer: [layer] rows [capacity] (kv_rows.h), grown by doubling.
class CpuBackend::Cache : public KvCache {
 public:
  Cache(int layers, KvFormat format, int kv_heads, int head_dim) {
    for (int l = 0; l < layers; ++l) {
      k_.emplace_back(format, kv_heads, head_dim);
      v_.emplace_back(format, kv_heads, head_dim);
    }
  }
  int length() const override { return length_; }
  void truncate(int length) override {
    if (length < 0 || length > length_) throw std::invalid_argument("KvCache::truncate: length out of range");
    length_ = length;
  }
  void reserve(int positions) {
    if (positions <= capacity_) return;
    const int grown = std::max(positions, std::max(64, capacity_ * 2));
    for (auto* store : {&k_, &v_}) {
      for (auto& layer : *store) layer.reserve(grown);
    }
    capacity_ = grown;
  }
  KvRows& k(int layer) { return k_[layer]; }
  KvRows& v(int layer) { return v_[layer]; }
  void set_length(int length) { length_ = length; }

 private:
  int length_ = 0;
  int capacity_ = 0;
  std::vector<KvRows> k_, v_;
};

// Paged K and V: rows [layers, blocks, block_tokens] each (kv_rows.h). Layer-major, so that a sequence's
// blocks of one layer lie close together (adjacent when allocated in order); block-major put one layer's
// blocks a power-of-two stride apart, where they fought over the same cache sets (attention ran 1.4x slower).
class CpuBackend::BlockStore : public KvBlockStore {
 public:
  BlockStore(int blocks, int block_tokens, int layers, KvFormat format, int kv_heads, int head_dim)
      : KvBlockStore(blocks, block_tokens),
        layers_(layers),
        kv_dim_(kv_heads * head_dim),
        k_(format, kv_heads, head_dim),
        v_(format, kv_heads, head_dim) {
    const std::size_t rows = static_cast<std::size_t>(blocks) * layers * block_tokens;
    k_.reserve(rows);
    v_.reserve(rows);
  }
  std::size_t block_bytes() const override {
    return (k_.row_bytes() + v_.row_bytes()) * static_cast<std::size_t>(layers_) * block_tokens();
  }
  KvRows& k() { return k_; }
  KvRows& v() { return v_; }
  bool fits(int layers, int kv_dim, KvFormat format) const {
    return layers == layers_ && kv_dim == kv_dim_ && format == k_.format();
  }
  std::size_t row(int block, int layer, int slot) const {
    return (static_cast<std::size_t>(layer) * blocks() + block) * block_tokens() + slot;
  }

 private:
  int layers_;
  int kv_dim_;
  KvRows k_, v_;
};

CpuBackend::CpuBackend(std::shared_ptr<const Checkpoint> checkpoint, const CpuBackendOptions& options)
    : checkpoint_(std::move(checkpoint)),
      options_(options),
      kernels_(&choose_kernels(options)),
      pool_(options.threads),
      matmul_(*kernels_, pool_, options.prefill_activations) {
  CpuWeightOptions weight_options;
  weight_options.linear = options.weights;
  weight_options.head = options.head;
  weight_options.map_weights = options.map_weights;
  weight_options.progress = options.progress;
  weights_ = std::make_unique<CpuWeights>(*checkpoint_, weight_options, pool_);
  for (const auto& layer : checkpoint_->weights().layers) {
    attention_norm_.push_back(to_f32(layer.attention_norm));
    ffn_norm_.push_back(to_f32(layer.ffn_norm));
  }
  final_norm_ = to_f32(checkpoint_->weights().norm);
  scores_.resize(pool_.size());
  if (options_.prefill_chunk <= 0) options_.prefill_chunk = 256;
}

std::string CpuBackend::name() const {
  return std::string("cpu (") + kernels_->name + ", " + std::to_string(pool_.size()) + " threads, " +
         weights_->summary() + " weights)";
}

std::size_t CpuBackend::kv_bytes_per_position() const {
  const KvRows rows(options_.kv_cache, config().num_key_value_heads, config().head_dim());
  return 2 * rows.row_bytes() * static_cast<std::size_t>(config().num_hidden_layers);
}

std::unique_ptr<KvCache> CpuBackend::new_cache() {
  return std::make_unique<Cache>(config().num_hidden_layers, options_.kv_cache, config().num_key_value_heads,
                                 config().head_dim());
}

std::unique_ptr<KvBlockStore> CpuBackend::new_block_store(int blocks, int block_tokens) {
  if (blocks <= 0 || block_tokens <= 0)
    throw std::invalid_argument("KV block store: blocks and block size must be > 0");
  return std::make_unique<BlockStore>(blocks, block_tokens, config().num_hidden_layers, options_.kv_cache,
                                      config().num_key_value_heads, config().head_dim());
}

std::unique_ptr<PagedKvCache> CpuBackend::new_paged_cache(KvBlockStore& store) {
  auto* own = dynamic_cast<BlockStore*>(&store);
  if (own == nullptr || !own->fits(config().num_hidden_layers, config().kv_dim(), options_.kv_cache)) {
    throw std::invalid_argument("CpuBackend: the block store was made by another backend or model");
  }
  return std::make_unique<PagedKvCache>(store);
}

CpuBackend::Row CpuBackend::row_for(KvCache& cache, int position, int64_t rope_length) const {
  Row row;
  row.position = position;
  row.rope_length = rope_length;
  if (auto* own = dynamic_cast<Cache*>(&cache)) {
    row.cache = own;
  } else if (auto* paged = dynamic_cast<PagedKvCache*>(&cache);
             paged != nullptr && dynamic_cast<BlockStore*>(&paged->store()) != nullptr) {
    if (position >= paged->capacity()) {
      throw std::invalid_argument("CpuBackend: position " + std::to_string(position) +
                                  " is past the paged cache's block table (" +
                                  std::to_string(paged->capacity()) + " positions)");
    }
    row.paged = paged;
  } else {
    throw std::invalid_argument("CpuBackend: the cache was made by another backend");
  }
  return row;
}

void CpuBackend::store_kv(const Row& row, int layer, const float* k, const float* v) const {
  if (row.cache != nullptr) {
    row.cache->k(layer).store(row.position, k);
    row.cache->v(layer).store(row.position, v);
    return;
  }
  auto& store = static_cast<BlockStore&>(row.paged->store());
  const int bt = store.block_tokens();
  const std::size_t at = store.row(row.paged->block_table()[row.position / bt], layer, row.position % bt);
  store.k().store(at, k);
  store.v().store(at, v);
}

CpuBackend::KvRun CpuBackend::run_at(const Row& row, int layer, int position, int end) const {
  if (row.cache != nullptr)
    return KvRun{row.cache->k(layer).at(position), row.cache->v(layer).at(position), end - position};
  const int bt = row.paged->store().block_tokens();
  const int slot = position % bt;
  auto& store = static_cast<BlockStore&>(row.paged->store());
  const std::size_t at = store.row(row.paged->block_table()[position / bt], layer, slot);
  return KvRun{store.k().at(at), store.v().at(at), std::min(bt - slot, end - position)};
}

void CpuBackend::matmul(const WeightMatrix& w, const float* x, int m, float* y) {
  matmul_.run(w, x, m, w.cols, y, w.rows);
}

const std::vector<float>& CpuBackend::inv_freq_for(int64_t rope_length) {
  const double base = rope_base_for_length(config(), rope_length);
  if (base != inv_freq_base_ || inv_freq_.empty()) {
    const int d = config().head_dim();
    inv_freq_.resize(d / 2);
    for (int i = 0; i < d / 2; ++i) inv_freq_[i] = static_cast<float>(1.0 / std::pow(base, 2.0 * i / d));
    inv_freq_base_ = base;
  }
  return inv_freq_;
}

// Rotate-half RoPE (HF): pairs (i, i + d/2) rotated by position * inv_freq[i].
void CpuBackend::rope(float* vec, int heads, int position, int64_t rope_length) {
  const int d = config().head_dim();
  const auto& inv_freq = inv_freq_for(rope_length);
  const double pos = position * rope_position_scale(config());
  for (int i = 0; i < d / 2; ++i) {
    const double angle = pos * static_cast<double>(inv_freq[i]);
    const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
    for (int h = 0; h < heads; ++h) {
      float* x = vec + h * d;
      const float a = x[i], b = x[i + d / 2];
      x[i] = a * c - b * s;
      x[i + d / 2] = b * c + a * s;
    }
  }
}

void CpuBackend::run_rows(std::span<const int32_t> tokens, std::span<const Row> rows,
                          std::span<const bool> want_logits, float* logits) {
  const ModelConfig& c = config();
  const int m = static_cast<int>(tokens.size());
  const int h = c.hidden_size, d = c.head_dim(), nh = c.num_attention_heads, nkv = c.num_key_value_heads;
  const int ff = c.intermediate_size, qkv_rows = c.qkv_rows(), kv_dim = c.kv_dim();
  const QkvLayout layout(c);

  std::vector<float> x(static_cast<std::size_t>(m) * h);           // [m, hidden] residual stream
  std::vector<float> xn(static_cast<std::size_t>(m) * h);          // [m, hidden] normed
  std::vector<float> qkv(static_cast<std::size_t>(m) * qkv_rows);  // [m, (nh + 2 nkv) d] packed
  std::vector<float> q(static_cast<std::size_t>(m) * nh * d);      // [m, nh d]
  std::vector<float> attn(static_cast<std::size_t>(m) * nh * d);   // [m, nh d]
  std::vector<float> gate(static_cast<std::size_t>(m) * ff);       // [m, intermediate]
  std::vector<float> up(static_cast<std::size_t>(m) * ff);         // [m, intermediate]
  std::vector<float> k_row(kv_dim), v_row(kv_dim);                 // one token's K and V [kv_dim]

  const WeightMatrix& embeddings = weights_->embeddings();
  for (int t = 0; t < m; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size) {
      throw std::invalid_argument("token id " + std::to_string(tokens[t]) + " is outside the vocabulary of " +
                                  std::to_string(c.vocab_size));
    }
    convert_row(embeddings, tokens[t], x.data() + static_cast<std::size_t>(t) * h);
  }
  int max_position = 0;
  for (const Row& row : rows) {
    if (row.cache != nullptr) row.cache->reserve(row.position + 1);
    max_position = std::max(max_position, row.position);
  }
  for (auto& s : scores_) s.resize(max_position + 1);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));

  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const CpuLayerWeights& lw = weights_->layer(l);
    for (int t = 0; t < m; ++t) {
      rms_norm(&x[t * h], attention_norm_[l].data(), h, c.rms_norm_eps, &xn[t * h]);
    }
    matmul(lw.wqkv, xn.data(), m, qkv.data());
    for (int t = 0; t < m; ++t) {
      const float* packed = &qkv[static_cast<std::size_t>(t) * qkv_rows];
      float* qt = &q[static_cast<std::size_t>(t) * nh * d];
      for (int head = 0; head < nh; ++head) std::copy_n(packed + layout.query_row(head), d, qt + head * d);
      for (int kv = 0; kv < nkv; ++kv) {
        std::copy_n(packed + layout.key_row(kv), d, k_row.data() + kv * d);
        std::copy_n(packed + layout.value_row(kv), d, v_row.data() + kv * d);
      }
      rope(qt, nh, rows[t].position, rows[t].rope_length);
      rope(k_row.data(), nkv, rows[t].position, rows[t].rope_length);
      store_kv(rows[t], l, k_row.data(), v_row.data());
    }
    // Attention: each (token, head) attends to its sequence's positions [0, position].
    pool_.run(m * nh, [&](int task, int thread) {
      const int t = task / nh, head = task % nh, kv = head / layout.group();
      const Row& row = rows[t];
      const float* qh = &q[(static_cast<std::size_t>(t) * nh + head) * d];
      float* scores = scores_[thread].data();
      float max_score = -INFINITY;
      // Positions come in runs stored back to back (the whole sequence, or one block), so the address
      // arithmetic of the block table is paid once per run, not per position.
      for (int j = 0; j <= row.position;) {
        const KvRun run = run_at(row, l, j, row.position + 1);
        if (run.k.f32 != nullptr) {
          kernels_->scores(qh, run.k.f32 + kv * d, kv_dim, run.count, d, scores + j);
        } else {
          kernels_->scores_i8(qh, run.k.i8 + kv * d, kv_dim, run.k.scale + kv, nkv, run.count, d, scores + j);
        }
        for (int i = 0; i < run.count; ++i) {
          scores[j + i] *= scale;
          max_score = std::max(max_score, scores[j + i]);
        }
        j += run.count;
      }
      float sum = 0.0f;
      for (int j = 0; j <= row.position; ++j) {
        scores[j] = std::exp(scores[j] - max_score);
        sum += scores[j];
      }
      float* out = &attn[(static_cast<std::size_t>(t) * nh + head) * d];
      std::fill_n(out, d, 0.0f);
      const float inv_sum = 1.0f / sum;
      for (int j = 0; j <= row.position; ++j) scores[j] *= inv_sum;
      for (int j = 0; j <= row.position;) {
        const KvRun run = run_at(row, l, j, row.position + 1);
        if (run.v.f32 != nullptr) {
          kernels_->mix(scores + j, run.v.f32 + kv * d, kv_dim, run.count, d, out);
        } else {
          kernels_->mix_i8(scores + j, run.v.i8 + kv * d, kv_dim, run.v.scale + kv, nkv, run.count, d, out);
        }
        j += run.count;
      }
    });
    matmul(lw.wo, attn.data(), m, xn.data());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += xn[i];

    for (int t = 0; t < m; ++t) rms_norm(&x[t * h], ffn_norm_[l].data(), h, c.rms_norm_eps, &xn[t * h]);
    matmul(lw.w1, xn.data(), m, gate.data());
    matmul(lw.w3, xn.data(), m, up.data());
    for (std::size_t i = 0; i < gate.size(); ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    // x += w2 gate, one column block at a time (cpu_weights.h).
    for (std::size_t b = 0; b < lw.w2.size(); ++b) {
      const WeightMatrix& block = lw.w2[b];
      matmul_.run(block, gate.data() + b * block.cols, m, ff, xn.data(), h);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] += xn[i];
    }
  }
  for (const Row& row : rows) {
    if (row.cache != nullptr) {
      row.cache->set_length(std::max(row.cache->length(), row.position + 1));
    } else {
      row.paged->set_length(std::max(row.paged->length(), row.position + 1));
    }
  }

  // Final norm and the output head for the rows that want logits.
  int out_rows = 0;
  for (int t = 0; t < m; ++t) {
    if (want_logits[t])
      rms_norm(&x[t * h], final_norm_.data(), h, c.rms_norm_eps,
               &xn[static_cast<std::size_t>(out_rows++) * h]);
  }
  if (out_rows > 0) matmul(weights_->output(), xn.data(), out_rows, logits);
}

void CpuBackend::prefill(KvCache& cache, std::span<const int32_t> tokens, LogitsFor which,
                         std::span<float> logits) {
  if (tokens.empty()) throw std::invalid_argument("prefill: no tokens");
  // Checked up front (and the table's reach) so that a failure leaves the cache untouched.
  row_for(cache, cache.length() + static_cast<int>(tokens.size()) - 1, 0);
  // Checked up front so that a bad id in a later chunk leaves the cache untouched.
  for (const int32_t id : tokens) {
    if (id < 0 || id >= config().vocab_size) {
      throw std::invalid_argument("token id " + std::to_string(id) + " is outside the vocabulary of " +
                                  std::to_string(config().vocab_size));
    }
  }
  const std::size_t vocab = config().vocab_size;
  const std::size_t rows_out = which == LogitsFor::All ? tokens.size() : 1;
  if (logits.size() < rows_out * vocab) throw std::invalid_argument("prefill: logits buffer too small");
  // HF computes the dynamic-NTK base once from the whole sequence a forward pass sees.
  const int64_t rope_length = static_cast<int64_t>(cache.length()) + static_cast<int64_t>(tokens.size());
  const int chunk = options_.prefill_chunk;
  for (std::size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const std::size_t n = std::min<std::size_t>(chunk, tokens.size() - begin);
    std::vector<Row> rows(n);
    auto want = std::make_unique<bool[]>(n);
    const int start = cache.length();
    for (std::size_t i = 0; i < n; ++i) {
      rows[i] = row_for(cache, start + static_cast<int>(i), rope_length);
      want[i] = which == LogitsFor::All || begin + i + 1 == tokens.size();
    }
    float* out = which == LogitsFor::All ? logits.data() + begin * vocab : logits.data();
    run_rows(tokens.subspan(begin, n), rows, std::span<const bool>(want.get(), n), out);
  }
}

void CpuBackend::decode(std::span<KvCache* const> caches, std::span<const int32_t> tokens,
                        std::span<float> logits) {
  if (caches.size() != tokens.size()) throw std::invalid_argument("decode: one token per cache");
  if (tokens.empty()) return;
  if (logits.size() < tokens.size() * static_cast<std::size_t>(config().vocab_size)) {
    throw std::invalid_argument("decode: logits buffer too small");
  }
  std::vector<Row> rows;
  for (std::size_t i = 0; i < caches.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (caches[j] == caches[i]) throw std::invalid_argument("decode: the same cache twice in one batch");
    }
    rows.push_back(row_for(*caches[i], caches[i]->length(), static_cast<int64_t>(caches[i]->length()) + 1));
  }
  auto want = std::make_unique<bool[]>(rows.size());
  std::fill_n(want.get(), rows.size(), true);
  run_rows(tokens, rows, std::span<const bool>(want.get(), rows.size()), logits.data());
}

void CpuBackend::forward(std::span<const ForwardChunk> chunks, std::span<float> logits) {
  std::vector<int32_t> tokens;
  std::vector<Row> rows;
  std::vector<char> want;
  std::size_t out_rows = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ForwardChunk& chunk = chunks[i];
    if (chunk.cache == nullptr || chunk.tokens.empty())
      throw std::invalid_argument("forward: an empty chunk");
    for (std::size_t j = 0; j < i; ++j) {
      if (chunks[j].cache == chunk.cache)
        throw std::invalid_argument("forward: the same cache twice in one pass");
    }
    const int start = chunk.cache->length();
    const int64_t rope_length =
        chunk.rope_length > 0 ? chunk.rope_length : start + static_cast<int64_t>(chunk.tokens.size());
    for (std::size_t t = 0; t < chunk.tokens.size(); ++t) {
      const int32_t id = chunk.tokens[t];
      if (id < 0 || id >= config().vocab_size) {
        throw std::invalid_argument("token id " + std::to_string(id) + " is outside the vocabulary of " +
                                    std::to_string(config().vocab_size));
      }
      tokens.push_back(id);
      rows.push_back(row_for(*chunk.cache, start + static_cast<int>(t), rope_length));
      want.push_back(chunk.want_logits && t + 1 == chunk.tokens.size());
    }
    if (chunk.want_logits) ++out_rows;
  }
  if (rows.empty()) return;
  if (logits.size() < out_rows * static_cast<std::size_t>(config().vocab_size)) {
    throw std::invalid_argument("forward: logits buffer too small");
  }
  auto flags = std::make_unique<bool[]>(want.size());
  for (std::size_t i = 0; i < want.size(); ++i) flags[i] = want[i] != 0;
  run_rows(tokens, rows, std::span<const bool>(flags.get(), want.size()), logits.data());
}

}  // namespace agentrt::engine::cpu
