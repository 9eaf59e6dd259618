// The int8 KV cache (one scale per head and position): logits over long contexts stay close to the fp32
// cache's, the paged block pool holds it too (a quarter of the memory per block, so the serving engine's pool
// holds four times the positions), and paged and contiguous int8 caches give identical logits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/kv_rows.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/serving/scheduler.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

// A small model with head_dim 64 and plain rope, so that long contexts keep one rope base.
const std::filesystem::path& kv_model() {
  static const std::filesystem::path dir = [] {
    MakeModelOptions o;
    o.config = preset_config("tiny");
    o.config.hidden_size = 128;
    o.config.num_attention_heads = 2;
    o.config.num_key_value_heads = 1;
    o.config.intermediate_size = 256;
    o.config.rope_scaling = RopeScaling::None;
    o.config.max_position_embeddings = 4096;
    o.seed = 9;
    return testing::make_test_model("kv-int8", o);
  }();
  return dir;
}

std::vector<int32_t> random_prompt(int n, uint32_t seed, int vocab) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& id : t) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab - 3)) + 3;
  return t;
}

TEST(KvRows, Int8RowsRoundTripWithinHalfAStep) {
  cpu::KvRows rows(cpu::KvFormat::Int8, 2, 64);
  rows.reserve(3);
  std::vector<float> x(128);
  for (int i = 0; i < 128; ++i) x[i] = std::sin(0.37f * i) * (i < 64 ? 3.0f : 0.01f);
  rows.store(2, x.data());
  const cpu::KvSpan span = rows.at(2);
  ASSERT_NE(span.i8, nullptr);
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 64; ++i) {
      const float back = static_cast<float>(span.i8[h * 64 + i]) * span.scale[h];
      // Each head has its own scale, so the small head keeps its precision.
      EXPECT_LE(std::fabs(back - x[h * 64 + i]), 0.5f * span.scale[h] * 1.0001f) << h << " " << i;
    }
  }
  EXPECT_EQ(rows.row_bytes(), 128u + 2 * sizeof(float));
  cpu::KvRows full(cpu::KvFormat::F32, 2, 64);
  EXPECT_EQ(full.row_bytes(), 128 * sizeof(float));
}

TEST(KvInt8, LongContextLogitsStayCloseToTheFp32Cache) {
  std::shared_ptr<const Checkpoint> ckpt = Checkpoint::open(kv_model());
  cpu::CpuBackendOptions options{.threads = 2};
  cpu::CpuBackend exact(ckpt, options);
  options.kv_cache = cpu::KvFormat::Int8;
  cpu::CpuBackend int8(ckpt, options);
  EXPECT_LT(int8.kv_bytes_per_position() * 3, exact.kv_bytes_per_position());
  const int vocab = ckpt->config().vocab_size;
  const auto prompt = random_prompt(1500, 4, vocab);
  std::vector<float> a(vocab), b(vocab);
  auto ca = exact.new_cache(), cb = int8.new_cache();
  exact.prefill(*ca, prompt, LogitsFor::Last, a);
  int8.prefill(*cb, prompt, LogitsFor::Last, b);
  double worst = 0;
  int agree = 0, steps = 0;
  int32_t token = 7;
  for (int step = 0; step < 24; ++step) {
    float max_logit = 0, max_diff = 0;
    for (int i = 0; i < vocab; ++i) {
      max_logit = std::max(max_logit, std::fabs(a[i]));
      max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
    }
    worst = std::max(worst, static_cast<double>(max_diff / max_logit));
    const int top_a = static_cast<int>(std::max_element(a.begin(), a.end()) - a.begin());
    const int top_b = static_cast<int>(std::max_element(b.begin(), b.end()) - b.begin());
    agree += top_a == top_b;
    ++steps;
    // Both continue with the exact cache's choice, so the contexts stay the same.
    token = top_a;
    KvCache* one_a[] = {ca.get()};
    KvCache* one_b[] = {cb.get()};
    exact.decode(one_a, std::span(&token, 1), a);
    int8.decode(one_b, std::span(&token, 1), b);
  }
  RecordProperty("worst_relative_logit_error", std::to_string(worst));
  RecordProperty("argmax_agreement", std::to_string(agree) + "/" + std::to_string(steps));
  EXPECT_LT(worst, 0.02) << "largest |logit difference| / largest |logit| over " << steps << " positions";
  EXPECT_GE(agree, steps - 2);
}

TEST(KvInt8, PagedBlocksHoldInt8AndMatchTheContiguousCache) {
  std::shared_ptr<const Checkpoint> ckpt = Checkpoint::open(kv_model());
  cpu::CpuBackendOptions options{.threads = 2};
  cpu::CpuBackend exact(ckpt, options);
  options.kv_cache = cpu::KvFormat::Int8;
  cpu::CpuBackend int8(ckpt, options);
  const auto fp32_store = exact.new_block_store(4, 16);
  auto store = int8.new_block_store(40, 16);
  EXPECT_LT(store->block_bytes() * 3, fp32_store->block_bytes());
  // A store of the other format is refused.
  EXPECT_THROW(int8.new_paged_cache(*fp32_store), std::invalid_argument);

  const int vocab = ckpt->config().vocab_size;
  const auto prompt = random_prompt(300, 5, vocab);
  auto contiguous = int8.new_cache();
  auto paged = int8.new_paged_cache(*store);
  for (int i = 0; i < 40; ++i) paged->block_table().push_back(39 - i);
  std::vector<float> want(prompt.size() * vocab), got(want.size());
  int8.prefill(*contiguous, prompt, LogitsFor::All, want);
  int8.prefill(*paged, prompt, LogitsFor::All, got);
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;

  // The serving engine runs on an int8 pool and gives what one request alone gives.
  ModelOptions model_options;
  model_options.kv_cache = "int8";
  auto model = Model::load(kv_model(), model_options);
  GenerateOptions greedy;
  greedy.max_tokens = 12;
  Generator alone(model->backend(), model->tokenizer());
  const auto expected = alone.generate(std::span(prompt).first(200), greedy).ids;
  serving::SchedulerOptions so;
  so.block_tokens = 16;
  so.blocks = 64;
  serving::Scheduler scheduler(model->backend(), model->tokenizer(), so);
  std::vector<int32_t> ids;
  bool done = false;
  scheduler.add(std::vector<int32_t>(prompt.begin(), prompt.begin() + 200), greedy, {},
                [&](GenerateResult&& r, const std::string& error) {
                  EXPECT_EQ(error, "");
                  ids = r.ids;
                  done = true;
                });
  for (int guard = 0; !scheduler.idle() && guard < 10000; ++guard) scheduler.step();
  ASSERT_TRUE(done);
  EXPECT_EQ(ids, expected);
}

}  // namespace
}  // namespace agentrt::engine
