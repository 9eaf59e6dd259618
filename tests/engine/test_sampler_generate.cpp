// The sampler's rules and the streaming generate loop (stop ids, stop strings, cancellation).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/generate.h"
#include "engine/model.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

std::vector<float> logits_of(std::initializer_list<float> values) {
  return values;
}

TEST(Sampler, GreedyTakesTheLargest) {
  Sampler sampler({});
  auto l = logits_of({0.1f, 2.0f, 1.9f});
  EXPECT_EQ(sampler.sample(l, {}, {}), 1);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  Sampler sampler(p);
  auto l = logits_of({1.0f, 1.5f, -1.0f});
  const int32_t seen[] = {1, 2};
  EXPECT_EQ(sampler.sample(l, seen, {}), 0);
  EXPECT_FLOAT_EQ(l[1], 0.75f);
  EXPECT_FLOAT_EQ(l[2], -2.0f);
}

TEST(Sampler, PresencePenaltyOnGeneratedTokensOnce) {
  SamplingParams p;
  p.presence_penalty = 1.0f;
  Sampler sampler(p);
  auto l = logits_of({1.0f, 1.5f});
  const int32_t generated[] = {1, 1};
  EXPECT_EQ(sampler.sample(l, {}, generated), 0);
  EXPECT_FLOAT_EQ(l[1], 0.5f);
}

std::map<int32_t, int> histogram(const SamplingParams& p, std::vector<float> base, int draws) {
  Sampler sampler(p);
  std::map<int32_t, int> counts;
  for (int i = 0; i < draws; ++i) {
    auto l = base;
    ++counts[sampler.sample(l, {}, {})];
  }
  return counts;
}

TEST(Sampler, TopKTopPMinPRestrictTheCandidates) {
  const std::vector<float> base = {3.0f, 2.0f, 1.0f, 0.0f, -1.0f};
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 2;
  for (const auto& [id, n] : histogram(p, base, 400)) EXPECT_LT(id, 2);
  p = {};
  p.temperature = 1.0f;
  p.top_p = 0.7f;  // softmax: 0.64, 0.23, ... -> the first two
  auto counts = histogram(p, base, 400);
  for (const auto& [id, n] : counts) EXPECT_LT(id, 2);
  EXPECT_EQ(counts.size(), 2u);
  p = {};
  p.temperature = 1.0f;
  p.min_p = 0.3f;  // exp(-1) = 0.37 >= 0.3, exp(-2) < 0.3
  counts = histogram(p, base, 400);
  for (const auto& [id, n] : counts) EXPECT_LT(id, 2);
  p = {};
  p.temperature = 1.0f;
  counts = histogram(p, base, 2000);
  EXPECT_EQ(counts.size(), 5u);
  // Frequencies follow the softmax: token 0 about 64%.
  EXPECT_NEAR(counts[0] / 2000.0, 0.636, 0.04);
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams p;
  p.temperature = 1.5f;
  p.seed = 42;
  const std::vector<float> base = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  Sampler a(p), b(p);
  p.seed = 43;
  Sampler c(p);
  int differ = 0;
  for (int i = 0; i < 50; ++i) {
    auto la = base, lb = base, lc = base;
    const int32_t ta = a.sample(la, {}, {});
    EXPECT_EQ(ta, b.sample(lb, {}, {}));
    differ += ta != c.sample(lc, {}, {});
  }
  EXPECT_GT(differ, 0);
}

TEST(Sampler, RejectsBadParameters) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler{p}, std::invalid_argument);
  p = {};
  p.temperature = -1.0f;
  EXPECT_THROW(Sampler{p}, std::invalid_argument);
  p = {};
  p.repetition_penalty = 0.0f;
  EXPECT_THROW(Sampler{p}, std::invalid_argument);
}

class GenerateTest : public ::testing::Test {
 protected:
  // fp32 prefill activations: prefill and decode then compute alike, so their logits agree to 1e-4.
  void SetUp() override {
    model_ = Model::load(testing::tiny_model(), ModelOptions{.prefill_activations = "fp32"});
  }
  GenerateResult run(const GenerateOptions& options, std::vector<TokenEvent>* events = nullptr,
                     int cancel_after = -1) {
    Generator generator(model_->backend(), model_->tokenizer());
    const auto prompt =
        model_->tokenizer().encode("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n");
    int seen = 0;
    return generator.generate(prompt, options, [&](const TokenEvent& e) {
      if (events) events->push_back(e);
      return cancel_after < 0 || ++seen < cancel_after;
    });
  }
  std::unique_ptr<Model> model_;
};

TEST_F(GenerateTest, StreamsOneEventPerTokenAndTheTextAddsUp) {
  GenerateOptions options;
  options.max_tokens = 24;
  std::vector<TokenEvent> events;
  const auto result = run(options, &events);
  EXPECT_EQ(result.finish_reason, "length");
  EXPECT_EQ(result.ids.size(), 24u);
  std::string text;
  std::size_t with_id = 0;
  for (const auto& e : events) {
    text += e.text;
    with_id += e.id >= 0;
  }
  EXPECT_EQ(with_id, 24u);
  EXPECT_EQ(text, result.text);
  EXPECT_EQ(result.text, model_->tokenizer().decode(result.ids));
}

TEST_F(GenerateTest, StopIdEndsWithoutTheToken) {
  GenerateOptions options;
  options.max_tokens = 24;
  const auto free_run = run(options);
  options.stop_ids = {free_run.ids[5]};
  const auto stopped = run(options);
  EXPECT_EQ(stopped.finish_reason, "stop");
  const auto first =
      std::find(free_run.ids.begin(), free_run.ids.end(), free_run.ids[5]) - free_run.ids.begin();
  EXPECT_EQ(stopped.ids, std::vector<int32_t>(free_run.ids.begin(), free_run.ids.begin() + first));
  EXPECT_EQ(stopped.stop, model_->tokenizer().token_text(free_run.ids[5]));
}

TEST_F(GenerateTest, StopStringCutsTheTextAndIsNeverStreamed) {
  GenerateOptions options;
  options.max_tokens = 24;
  const auto free_run = run(options);
  // A stop string from the middle of the free-running text (spanning tokens where possible).
  const std::string& text = free_run.text;
  ASSERT_GE(text.size(), 8u);
  const std::string stop = text.substr(text.size() / 2, 3);
  options.stop_strings = {stop};
  std::vector<TokenEvent> events;
  const auto result = run(options, &events);
  EXPECT_EQ(result.finish_reason, "stop");
  EXPECT_EQ(result.stop, stop);
  EXPECT_EQ(result.text, text.substr(0, text.find(stop)));
  std::string streamed;
  for (const auto& e : events) streamed += e.text;
  EXPECT_EQ(streamed, result.text);
}

// Forces one token and records what it was told.
class ForceToken : public LogitsProcessor {
 public:
  explicit ForceToken(int32_t token) : token_(token) {}
  void process(std::span<float> logits) override {
    ++processed;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      if (static_cast<int32_t>(i) != token_) logits[i] = -INFINITY;
    }
  }
  void accept(int32_t token) override { accepted.push_back(token); }
  int processed = 0;
  std::vector<int32_t> accepted;

 private:
  int32_t token_;
};

TEST_F(GenerateTest, LogitsProcessorMasksEveryStep) {
  ForceToken force(77);
  GenerateOptions options;
  options.max_tokens = 6;
  options.sampling.temperature = 1.0f;
  options.logits_processor = &force;
  const auto result = run(options);
  EXPECT_EQ(result.ids, std::vector<int32_t>(6, 77));
  EXPECT_EQ(force.processed, 6);
  EXPECT_EQ(force.accepted, std::vector<int32_t>(6, 77));
}

TEST_F(GenerateTest, CallbackCancels) {
  GenerateOptions options;
  options.max_tokens = 24;
  const auto result = run(options, nullptr, 3);
  EXPECT_EQ(result.finish_reason, "cancelled");
  EXPECT_EQ(result.ids.size(), 3u);
}

TEST_F(GenerateTest, BadInputIsAClearError) {
  Generator generator(model_->backend(), model_->tokenizer());
  EXPECT_THROW(generator.generate({}, {}), std::invalid_argument);
  const int32_t bad[] = {1, 100000};
  try {
    generator.generate(bad, {});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "token id 100000 is outside the vocabulary of 512");
  }
}

TEST_F(GenerateTest, BadIdLeavesTheCacheUntouched) {
  auto& backend = model_->backend();
  auto cache = backend.new_cache();
  std::vector<int32_t> ids(300, 5);
  ids.back() = -1;
  std::vector<float> logits(backend.config().vocab_size);
  EXPECT_THROW(backend.prefill(*cache, ids, LogitsFor::Last, logits), std::invalid_argument);
  EXPECT_EQ(cache->length(), 0);
}

TEST_F(GenerateTest, PrefillInPiecesEqualsPrefillAtOnce) {
  // KV-cache reuse: 10 tokens then 1 + decode steps give the same logits as one pass.
  auto& backend = model_->backend();
  const auto ids = model_->tokenizer().encode("The quick brown fox jumps over the lazy dog again and again");
  const int vocab = backend.config().vocab_size;
  std::vector<float> all(ids.size() * vocab), step(vocab);
  auto one = backend.new_cache();
  backend.prefill(*one, ids, LogitsFor::All, all);
  auto two = backend.new_cache();
  backend.prefill(*two, std::span(ids).first(10), LogitsFor::Last, step);
  for (std::size_t i = 10; i < ids.size(); ++i) {
    KvCache* caches[] = {two.get()};
    const int32_t token[] = {ids[i]};
    backend.decode(caches, token, step);
    for (int v = 0; v < vocab; ++v) ASSERT_NEAR(step[v], all[i * vocab + v], 1e-4) << i;
  }
  EXPECT_EQ(two->length(), static_cast<int>(ids.size()));
}

TEST_F(GenerateTest, BatchedDecodeEqualsSingleDecode) {
  auto& backend = model_->backend();
  const int vocab = backend.config().vocab_size;
  const auto a = model_->tokenizer().encode("first prompt here");
  const auto b = model_->tokenizer().encode("a second, longer prompt with more words");
  std::vector<float> scratch(vocab), batch(2 * vocab), single(vocab);
  auto ca = backend.new_cache(), cb = backend.new_cache(), cs = backend.new_cache();
  backend.prefill(*ca, a, LogitsFor::Last, scratch);
  backend.prefill(*cb, b, LogitsFor::Last, scratch);
  backend.prefill(*cs, b, LogitsFor::Last, scratch);
  KvCache* both[] = {ca.get(), cb.get()};
  const int32_t tokens[] = {5, 7};
  backend.decode(both, tokens, batch);
  KvCache* just_b[] = {cs.get()};
  const int32_t token_b[] = {7};
  backend.decode(just_b, token_b, single);
  for (int v = 0; v < vocab; ++v) ASSERT_NEAR(batch[vocab + v], single[v], 1e-4);
}

}  // namespace
}  // namespace agentrt::engine
