// The whole model on the GPU against the CPU backend on the tiny checkpoint (GQA, dynamic NTK past 64
// positions): logits at every position of a 300-token prompt, 64 greedy steps, a long decode past the maximum
// position, batched decode (graph replays included), and the backend's errors.
#include <algorithm>
#include <iostream>

#include "engine/cpu/cpu_backend.h"
#include "engine/model.h"
#include "tests/engine/test_support.h"
#include "tests/kernels/gpu_test_support.h"

namespace agentrt::engine::cuda::testing {
namespace {

constexpr double kLogitTolerance = 3e-2;  // bf16 weights and activations against the CPU's fp32

class ModelTest : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    checkpoint_ = Checkpoint::open(engine::testing::tiny_model());
    cpu_ = std::make_unique<cpu::CpuBackend>(checkpoint_);
    gpu_ = std::make_unique<CudaBackend>(checkpoint_, options());
    vocab_ = checkpoint_->config().vocab_size;
  }
  static CudaBackendOptions options() {
    CudaBackendOptions o;
    o.prefill_chunk = 128;  // a 300-token prompt takes three passes
    o.max_batch = 8;
    o.max_context = 1024;
    o.kv_cache_tokens = 16384;
    o.kv_block_size = 16;
    return o;
  }
  std::vector<int32_t> prompt(int length) {
    std::vector<int32_t> ids{1};
    std::uniform_int_distribution<int32_t> dist(3, vocab_ - 1);
    while (static_cast<int>(ids.size()) < length) ids.push_back(dist(rng_));
    return ids;
  }
  static int32_t argmax(std::span<const float> row) {
    return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
  }

  std::shared_ptr<Checkpoint> checkpoint_;
  std::unique_ptr<cpu::CpuBackend> cpu_;
  std::unique_ptr<CudaBackend> gpu_;
  int vocab_ = 0;
  std::mt19937 rng_{3};
};

TEST_F(ModelTest, LogitsAtEveryPositionOfA300TokenPromptMatchTheCpu) {
  const auto ids = prompt(300);
  std::vector<float> cpu_logits(ids.size() * vocab_), gpu_logits(ids.size() * vocab_);
  auto cpu_cache = cpu_->new_cache();
  auto gpu_cache = gpu_->new_cache();
  cpu_->prefill(*cpu_cache, ids, LogitsFor::All, cpu_logits);
  gpu_->prefill(*gpu_cache, ids, LogitsFor::All, gpu_logits);
  EXPECT_EQ(gpu_cache->length(), 300);
  const WorstRow worst = worst_row_error(gpu_logits, cpu_logits, vocab_);
  RecordProperty("worst_relative_logit_error", std::to_string(worst.error));
  std::cout << "worst relative logit error " << worst.error << " at position " << worst.row << "\n";
  EXPECT_LT(worst.error, kLogitTolerance) << "position " << worst.row;
}

TEST_F(ModelTest, GreedyTokensAreIdenticalToTheCpuFor64Steps) {
  const auto ids = prompt(12);
  std::vector<float> logits(vocab_);
  auto cpu_cache = cpu_->new_cache();
  auto gpu_cache = gpu_->new_cache();
  auto sampled_cache = gpu_->new_cache();
  cpu_->prefill(*cpu_cache, ids, LogitsFor::Last, logits);
  int32_t cpu_token = argmax(logits);
  gpu_->prefill(*gpu_cache, ids, LogitsFor::Last, logits);
  int32_t gpu_token = argmax(logits);
  gpu_->prefill(*sampled_cache, ids, LogitsFor::Last, logits);
  int32_t sampled_token = argmax(logits);
  for (int step = 0; step < 64; ++step) {
    ASSERT_EQ(gpu_token, cpu_token) << "step " << step;
    ASSERT_EQ(sampled_token, cpu_token) << "step " << step;
    KvCache* cpu_batch[] = {cpu_cache.get()};
    KvCache* gpu_batch[] = {gpu_cache.get()};
    KvCache* sampled_batch[] = {sampled_cache.get()};
    cpu_->decode(cpu_batch, std::span(&cpu_token, 1), logits);
    cpu_token = argmax(logits);
    gpu_->decode(gpu_batch, std::span(&gpu_token, 1), logits);
    gpu_token = argmax(logits);
    sampled_token = gpu_->decode_sample(sampled_batch, std::span(&sampled_token, 1), GpuSampling{})[0];
  }
  EXPECT_EQ(gpu_->captured_graphs(), 1);  // batch 1, captured on its second step and replayed since
}

TEST_F(ModelTest, DecodePastTheMaximumPositionFollowsDynamicNtk) {
  ASSERT_EQ(checkpoint_->config().max_position_embeddings, 64);
  const auto ids = prompt(40);
  std::vector<float> cpu_logits(vocab_), gpu_logits(vocab_);
  auto cpu_cache = cpu_->new_cache();
  auto gpu_cache = gpu_->new_cache();
  cpu_->prefill(*cpu_cache, ids, LogitsFor::Last, cpu_logits);
  gpu_->prefill(*gpu_cache, ids, LogitsFor::Last, gpu_logits);
  for (int step = 0; step < 160; ++step) {  // to position 200: the rope base changes every step past 64
    ASSERT_LT(relative_error(gpu_logits, cpu_logits), kLogitTolerance) << "position " << 40 + step;
    int32_t token = argmax(cpu_logits);
    KvCache* cpu_batch[] = {cpu_cache.get()};
    KvCache* gpu_batch[] = {gpu_cache.get()};
    cpu_->decode(cpu_batch, std::span(&token, 1), cpu_logits);
    gpu_->decode(gpu_batch, std::span(&token, 1), gpu_logits);
  }
}

TEST_F(ModelTest, BatchedDecodeEqualsEachSequenceAlone) {
  const std::vector<int> lengths{5, 40, 70};
  std::vector<std::unique_ptr<KvCache>> cpu_caches, gpu_caches;
  std::vector<float> logits(vocab_);
  std::vector<int32_t> tokens;
  for (const int length : lengths) {
    const auto ids = prompt(length);
    cpu_caches.push_back(cpu_->new_cache());
    gpu_caches.push_back(gpu_->new_cache());
    cpu_->prefill(*cpu_caches.back(), ids, LogitsFor::Last, logits);
    gpu_->prefill(*gpu_caches.back(), ids, LogitsFor::Last, logits);
    tokens.push_back(argmax(logits));
  }
  std::vector<KvCache*> batch;
  for (auto& cache : gpu_caches) batch.push_back(cache.get());
  std::vector<float> gpu_logits(lengths.size() * vocab_), cpu_logits(vocab_);
  for (int step = 0; step < 5; ++step) {  // eager, capture, then replays
    gpu_->decode(batch, tokens, gpu_logits);
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      KvCache* one[] = {cpu_caches[i].get()};
      cpu_->decode(one, std::span(&tokens[i], 1), cpu_logits);
      const std::vector<float> row(gpu_logits.begin() + i * vocab_, gpu_logits.begin() + (i + 1) * vocab_);
      ASSERT_LT(relative_error(row, cpu_logits), kLogitTolerance) << "step " << step << " sequence " << i;
      tokens[i] = argmax(cpu_logits);
    }
  }
}

TEST_F(ModelTest, TruncatingAndRefillingEqualsAFreshPrefill) {
  const auto ids = prompt(90);
  std::vector<float> reused(vocab_), fresh(vocab_);
  auto cache = gpu_->new_cache();
  gpu_->prefill(*cache, ids, LogitsFor::Last, reused);
  const int free_before = gpu_->free_kv_blocks();
  cache->truncate(33);
  EXPECT_GT(gpu_->free_kv_blocks(), free_before);  // blocks past position 33 went back to the pool
  gpu_->prefill(*cache, std::span(ids).subspan(33), LogitsFor::Last, reused);
  auto other = gpu_->new_cache();
  gpu_->prefill(*other, ids, LogitsFor::Last, fresh);
  EXPECT_LT(relative_error(reused, fresh), 1e-6);
}

TEST_F(ModelTest, BadInputGetsClearErrorsAndLeavesTheCacheAlone) {
  auto cache = gpu_->new_cache();
  std::vector<float> logits(vocab_);
  const std::vector<int32_t> bad{1, vocab_};
  EXPECT_THROW(gpu_->prefill(*cache, bad, LogitsFor::Last, logits), std::invalid_argument);
  EXPECT_EQ(cache->length(), 0);
  auto foreign = cpu_->new_cache();
  const std::vector<int32_t> one{1};
  EXPECT_THROW(gpu_->prefill(*foreign, one, LogitsFor::Last, logits), std::invalid_argument);
  std::vector<float> small(vocab_ - 1);
  EXPECT_THROW(gpu_->prefill(*cache, one, LogitsFor::Last, small), std::invalid_argument);
  std::vector<std::unique_ptr<KvCache>> many;
  std::vector<KvCache*> batch;
  for (int i = 0; i < 9; ++i) {
    many.push_back(gpu_->new_cache());
    batch.push_back(many.back().get());
  }
  const std::vector<int32_t> nine(9, 1);
  std::vector<float> big(9 * vocab_);
  EXPECT_THROW(gpu_->decode(batch, nine, big), std::invalid_argument);  // max_batch is 8

  // A pool of 4 blocks of 16 positions: a second sequence finds too few blocks free, and takes none.
  CudaBackendOptions tight = options();
  tight.kv_cache_tokens = 64;
  tight.min_kv_tokens = 64;
  CudaBackend small_pool(checkpoint_, tight);
  EXPECT_EQ(small_pool.memory_plan().max_context, 64);
  auto first = small_pool.new_cache();
  auto second = small_pool.new_cache();
  small_pool.prefill(*first, prompt(48), LogitsFor::Last, logits);
  EXPECT_EQ(small_pool.free_kv_blocks(), 1);
  EXPECT_THROW(small_pool.prefill(*second, prompt(32), LogitsFor::Last, logits), KvCacheFull);
  EXPECT_EQ(second->length(), 0);
  EXPECT_EQ(small_pool.free_kv_blocks(), 1);
  EXPECT_THROW(small_pool.prefill(*second, prompt(65), LogitsFor::Last, logits), std::invalid_argument);
  first.reset();  // its blocks go back to the pool
  small_pool.prefill(*second, prompt(64), LogitsFor::Last, logits);
  EXPECT_EQ(small_pool.free_kv_blocks(), 0);
}

// The serving engine's path: paged caches in a block store of the backend, their tables written by the
// caller, one forward() with prefill chunks and one-token chunks together, a prefix block shared between
// sequences.
TEST_F(ModelTest, ForwardOverABlockStoreMatchesTheCpu) {
  auto store = gpu_->new_block_store(32, 16);
  ASSERT_EQ(store->block_tokens(), 16);
  auto a = gpu_->new_paged_cache(*store);
  auto b = gpu_->new_paged_cache(*store);
  a->block_table() = {5, 3, 9, 1};  // 64 positions, scattered
  b->block_table() = {7, 2, 11, 12};
  const auto pa = prompt(37), pb = prompt(50);
  auto ca = cpu_->new_cache(), cb = cpu_->new_cache();
  std::vector<float> ref(vocab_), got(2 * vocab_);
  // Pass 1: a's whole prompt, b's first 20 tokens (no logits).
  const ForwardChunk first[] = {{a.get(), pa, 0, true}, {b.get(), std::span(pb).first(20), 50, false}};
  gpu_->forward(first, std::span(got).first(vocab_));
  cpu_->prefill(*ca, pa, LogitsFor::Last, ref);
  EXPECT_LT(relative_error(std::vector<float>(got.begin(), got.begin() + vocab_), ref), kLogitTolerance);
  EXPECT_EQ(a->length(), 37);
  EXPECT_EQ(b->length(), 20);
  // Pass 2: a decodes one token, b finishes its prompt (rope base of the whole prompt, as the CPU's one
  // prefill).
  int32_t next = argmax(ref);
  const ForwardChunk second[] = {{a.get(), std::span(&next, 1), 0, true},
                                 {b.get(), std::span(pb).subspan(20), 50, true}};
  gpu_->forward(second, got);
  KvCache* one[] = {ca.get()};
  cpu_->decode(one, std::span(&next, 1), ref);
  EXPECT_LT(relative_error(std::vector<float>(got.begin(), got.begin() + vocab_), ref), kLogitTolerance);
  cpu_->prefill(*cb, pb, LogitsFor::Last, ref);
  EXPECT_LT(relative_error(std::vector<float>(got.begin() + vocab_, got.end()), ref), kLogitTolerance);
  // A third sequence shares a's first block (16 prompt positions already computed) and computes the rest.
  auto c = gpu_->new_paged_cache(*store);
  c->block_table() = {5, 20, 21};
  c->set_length(16);
  const std::vector<int32_t> rest(pa.begin() + 16, pa.end());
  const ForwardChunk third[] = {{c.get(), rest, 37, true}};
  gpu_->forward(third, std::span(got).first(vocab_));
  auto fresh = cpu_->new_cache();
  cpu_->prefill(*fresh, pa, LogitsFor::Last, ref);
  EXPECT_LT(relative_error(std::vector<float>(got.begin(), got.begin() + vocab_), ref), kLogitTolerance);
  // Tables that do not cover the pass, and stores of other backends, are refused.
  auto short_table = gpu_->new_paged_cache(*store);
  short_table->block_table() = {4};
  const auto long_prompt = prompt(17);
  const ForwardChunk too_long[] = {{short_table.get(), long_prompt, 0, true}};
  EXPECT_THROW(gpu_->forward(too_long, std::span(got).first(vocab_)), std::invalid_argument);
  auto cpu_store = cpu_->new_block_store(4, 16);
  ASSERT_NE(cpu_store, nullptr);
  EXPECT_THROW(gpu_->new_paged_cache(*cpu_store), std::invalid_argument);
}

TEST_F(ModelTest, ModelLoadRunsTheCudaBackend) {
  ModelOptions options;
  options.backend = "cuda";
  auto model = Model::load(engine::testing::tiny_model(), options);
  EXPECT_EQ(model->backend().name().rfind("cuda (", 0), 0u) << model->backend().name();
}

}  // namespace
}  // namespace agentrt::engine::cuda::testing
