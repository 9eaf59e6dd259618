// The serving engine against the plain engine: paged attention equals the contiguous cache, batched and
// chunked runs equal one request alone, a prefix hit prefills only the new tokens, cancellation returns every
// block, and requests that can never fit are refused clearly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>

#include "engine/generate.h"
#include "engine/model.h"
#include "engine/serving/scheduler.h"
#include "engine/serving/serving_engine.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine::serving {
namespace {

Model& tiny() {
  static auto model = Model::load(testing::tiny_model());
  return *model;
}

// The tiny shape without dynamic NTK, so that positions far past 64 keep one rope base and re-used prefix
// blocks are exact.
Model& tiny_plain_rope() {
  static auto model = [] {
    MakeModelOptions o;
    o.config = preset_config("tiny");
    o.config.rope_scaling = RopeScaling::None;
    o.config.max_position_embeddings = 4096;
    o.seed = 3;
    return Model::load(testing::make_test_model("tiny-plain-rope", o));
  }();
  return *model;
}

std::vector<int32_t> random_prompt(int n, uint32_t seed, int vocab) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& id : t) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab - 3)) + 3;
  return t;
}

GenerateOptions greedy(int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  return o;
}

std::vector<int32_t> alone(Model& m, const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  Generator g(m.backend(), m.tokenizer());
  return g.generate(prompt, o).ids;
}

struct Outcome {
  GenerateResult result;
  std::string error;
  bool done = false;
};

Scheduler::Id add(Scheduler& s, const std::vector<int32_t>& prompt, const GenerateOptions& o, Outcome& out) {
  return s.add(prompt, o, {}, [&out](GenerateResult&& r, const std::string& e) {
    out.result = std::move(r);
    out.error = e;
    out.done = true;
  });
}

void run_to_idle(Scheduler& s) {
  for (int guard = 0; !s.idle() && guard < 100000; ++guard) s.step();
  ASSERT_TRUE(s.idle());
}

TEST(PagedKvCache, LogitsThroughBlockTablesEqualTheContiguousCache) {
  Backend& b = tiny().backend();
  const int vocab = b.config().vocab_size;
  const auto prompt = random_prompt(90, 1, vocab);  // past max_position_embeddings: dynamic NTK on
  auto contiguous = b.new_cache();
  std::vector<float> want(prompt.size() * vocab), got(prompt.size() * vocab);
  b.prefill(*contiguous, prompt, LogitsFor::All, want);

  auto store = b.new_block_store(12, 8);
  auto paged = b.new_paged_cache(*store);
  // Scattered, out-of-order blocks: the table, not the storage order, says where positions are.
  paged->block_table() = {11, 3, 7, 0, 9, 1, 5, 10, 2, 6, 4, 8};
  b.prefill(*paged, prompt, LogitsFor::All, got);
  ASSERT_EQ(paged->length(), 90);
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_FLOAT_EQ(got[i], want[i]) << i;

  std::vector<float> dw(vocab), dg(vocab);
  KvCache* c1[] = {contiguous.get()};
  KvCache* c2[] = {paged.get()};
  const int32_t next[] = {42};
  b.decode(c1, next, dw);
  b.decode(c2, next, dg);
  for (int i = 0; i < vocab; ++i) ASSERT_FLOAT_EQ(dg[i], dw[i]);
  // The table ends at 96 positions: writing past it is an error, not a stray write.
  const std::vector<int32_t> more(8, 5);
  std::vector<float> sink(vocab);
  EXPECT_THROW(b.prefill(*paged, more, LogitsFor::Last, sink), std::invalid_argument);
  EXPECT_EQ(paged->length(), 91);
  EXPECT_THROW(b.new_block_store(0, 4), std::invalid_argument);
}

TEST(Scheduler, BatchedAndChunkedRunsEqualEachRequestAlone) {
  Model& m = tiny();
  const int vocab = m.config().vocab_size;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 6; ++i) prompts.push_back(random_prompt(5 + 23 * i, 10 + i, vocab));
  std::vector<std::vector<int32_t>> expected;
  for (const auto& p : prompts) expected.push_back(alone(m, p, greedy(14)));

  SchedulerOptions o;
  o.block_tokens = 8;
  o.blocks = 200;
  o.max_step_tokens = 19;  // prefills are chunked and share passes with decodes
  Scheduler s(m.backend(), m.tokenizer(), o);
  std::vector<Outcome> out(prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) add(s, prompts[i], greedy(14), out[i]);
  run_to_idle(s);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_TRUE(out[i].done);
    EXPECT_EQ(out[i].error, "");
    EXPECT_EQ(out[i].result.ids, expected[i]) << "request " << i;
    EXPECT_EQ(out[i].result.finish_reason, "length");
  }
  EXPECT_EQ(s.stats().blocks_used, 0);
  EXPECT_GT(s.stats().steps, 14);
}

TEST(Scheduler, ChunkedPrefillEqualsOneShotWithSampling) {
  Model& m = tiny();
  const auto prompt = random_prompt(150, 7, m.config().vocab_size);
  GenerateOptions o = greedy(20);
  o.sampling.temperature = 0.9f;
  o.sampling.top_k = 40;
  o.sampling.seed = 1234;
  const auto expected = alone(m, prompt, o);
  for (const int budget : {1, 7, 64, 1000}) {
    SchedulerOptions so;
    so.max_step_tokens = budget;
    so.blocks = 64;
    Scheduler s(m.backend(), m.tokenizer(), so);
    Outcome out;
    add(s, prompt, o, out);
    run_to_idle(s);
    EXPECT_EQ(out.result.ids, expected) << "budget " << budget;
  }
}

TEST(Scheduler, TurnTwoOfAConversationPrefillsOnlyItsNewTokens) {
  Model& m = tiny_plain_rope();
  const int vocab = m.config().vocab_size;
  SchedulerOptions so;
  so.block_tokens = 16;
  so.blocks = 64;
  Scheduler s(m.backend(), m.tokenizer(), so);

  auto history = random_prompt(70, 21, vocab);
  Outcome turn1;
  add(s, history, greedy(10), turn1);
  run_to_idle(s);
  ASSERT_EQ(turn1.result.ids.size(), 10u);
  // Turn 2: the whole of turn 1 (prompt and reply) and a new message.
  history.insert(history.end(), turn1.result.ids.begin(), turn1.result.ids.end());
  const auto added = random_prompt(25, 22, vocab);
  history.insert(history.end(), added.begin(), added.end());
  const auto before = s.stats();
  Outcome turn2;
  add(s, history, greedy(6), turn2);
  run_to_idle(s);
  const auto after = s.stats();
  // 70 prompt + 9 fed generated tokens = 79 positions computed in turn 1: four whole blocks of 16 cached.
  EXPECT_EQ(after.prefix_hit_tokens - before.prefix_hit_tokens, 64);
  EXPECT_EQ(after.prefix_lookup_tokens - before.prefix_lookup_tokens, static_cast<long long>(history.size()));
  // Rows through the model: the unshared tail of the prompt, then one per decode step after the first token.
  EXPECT_EQ(after.tokens_forwarded - before.tokens_forwarded,
            static_cast<long long>(history.size()) - 64 + 5);
  EXPECT_EQ(turn2.result.ids, alone(m, history, greedy(6)));
}

TEST(Scheduler, AFullyCachedPromptStillComputesItsLastToken) {
  Model& m = tiny_plain_rope();
  SchedulerOptions so;
  so.block_tokens = 8;
  so.blocks = 32;
  Scheduler s(m.backend(), m.tokenizer(), so);
  const auto prompt = random_prompt(32, 5, m.config().vocab_size);
  Outcome first, second;
  add(s, prompt, greedy(3), first);
  run_to_idle(s);
  add(s, prompt, greedy(3), second);
  run_to_idle(s);
  EXPECT_EQ(s.stats().prefix_hit_tokens, 24);  // three of four blocks: the last token must be computed
  EXPECT_EQ(second.result.ids, first.result.ids);
}

TEST(Scheduler, CancellationReturnsEveryBlockAtOnce) {
  Model& m = tiny();
  SchedulerOptions so;
  so.block_tokens = 4;
  so.blocks = 100;
  so.max_step_tokens = 16;
  Scheduler s(m.backend(), m.tokenizer(), so);
  std::vector<Outcome> out(3);
  std::vector<Scheduler::Id> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(add(s, random_prompt(30, 40 + i, 500), greedy(50), out[i]));
  for (int i = 0; i < 6; ++i) s.step();
  EXPECT_GT(s.stats().blocks_used, 0);
  for (const auto id : ids) s.cancel(id);
  const auto st = s.stats();
  EXPECT_EQ(st.blocks_used, 0);
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(s.blocks().available(), so.blocks);
  for (const auto& o : out) {
    EXPECT_TRUE(o.done);
    EXPECT_EQ(o.result.finish_reason, "cancelled");
  }
  // Cancelling a finished or unknown request does nothing.
  s.cancel(ids[0]);
  s.cancel(999);
  EXPECT_TRUE(s.idle());
}

TEST(Scheduler, RefusesRequestsThatCanNeverFitOrAreMalformed) {
  Model& m = tiny();
  SchedulerOptions so;
  so.block_tokens = 16;
  so.blocks = 4;  // 64 positions
  Scheduler s(m.backend(), m.tokenizer(), so);
  Outcome out;
  try {
    add(s, random_prompt(50, 1, 500), greedy(30), out);
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("can never fit in the KV cache"), std::string::npos) << e.what();
  }
  EXPECT_THROW(add(s, {}, greedy(4), out), std::invalid_argument);
  EXPECT_THROW(add(s, {1, 2, 100000}, greedy(4), out), std::invalid_argument);
  GenerateOptions bad = greedy(4);
  bad.sampling.top_p = 0;
  EXPECT_THROW(add(s, {1, 2, 3}, bad, out), std::invalid_argument);
  EXPECT_TRUE(s.idle());
}

TEST(Scheduler, RequestsWaitForBlocksUnderMemoryPressure) {
  Model& m = tiny();
  const auto vocab = m.config().vocab_size;
  SchedulerOptions so;
  so.block_tokens = 8;
  so.blocks = 8;  // room for one of these requests at a time
  Scheduler s(m.backend(), m.tokenizer(), so);
  std::vector<Outcome> out(3);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 3; ++i) {
    prompts.push_back(random_prompt(40, 60 + i, vocab));
    add(s, prompts.back(), greedy(12), out[i]);
  }
  s.step();
  EXPECT_EQ(s.stats().running, 1);
  EXPECT_EQ(s.stats().waiting, 2);
  run_to_idle(s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i].result.ids, alone(m, prompts[i], greedy(12)));
}

// Allows one token only.
class OnlyToken : public LogitsProcessor {
 public:
  explicit OnlyToken(int32_t id) : id_(id) {}
  void process(std::span<float> logits) override {
    for (std::size_t i = 0; i < logits.size(); ++i) {
      if (static_cast<int32_t>(i) != id_) logits[i] = -INFINITY;
    }
  }
  void accept(int32_t token) override { accepted.push_back(token); }
  std::vector<int32_t> accepted;

 private:
  int32_t id_;
};

TEST(Scheduler, LogitsProcessorsAndStopsArePerRequest) {
  Model& m = tiny();
  const auto prompt = random_prompt(20, 9, m.config().vocab_size);
  const auto free_run = alone(m, prompt, greedy(6));
  Scheduler s(m.backend(), m.tokenizer(), {});
  OnlyToken only(77);
  GenerateOptions constrained = greedy(6);
  constrained.logits_processor = &only;
  GenerateOptions stopping = greedy(6);
  stopping.stop_ids = {free_run[2]};
  Outcome a, b, c;
  add(s, prompt, constrained, a);
  add(s, prompt, greedy(6), b);
  add(s, prompt, stopping, c);
  run_to_idle(s);
  EXPECT_EQ(a.result.ids, std::vector<int32_t>(6, 77));
  EXPECT_EQ(only.accepted, std::vector<int32_t>(6, 77));
  EXPECT_EQ(b.result.ids, free_run);
  EXPECT_EQ(c.result.finish_reason, "stop");
  const auto first_stop = std::find(free_run.begin(), free_run.end(), free_run[2]) - free_run.begin();
  EXPECT_EQ(c.result.ids, std::vector<int32_t>(free_run.begin(), free_run.begin() + first_stop));
}

class Throwing : public LogitsProcessor {
 public:
  void process(std::span<float>) override { throw std::runtime_error("constraint broke"); }
  void accept(int32_t) override {}
};

TEST(Scheduler, AFailingLogitsProcessorEndsOnlyItsRequest) {
  Model& m = tiny();
  const auto prompt = random_prompt(20, 9, m.config().vocab_size);
  Scheduler s(m.backend(), m.tokenizer(), {});
  Throwing broken;
  GenerateOptions bad = greedy(4);
  bad.logits_processor = &broken;
  Outcome a, b;
  add(s, prompt, bad, a);
  add(s, prompt, greedy(4), b);
  run_to_idle(s);
  EXPECT_EQ(a.error, "constraint broke");
  EXPECT_EQ(b.error, "");
  EXPECT_EQ(b.result.ids, alone(m, prompt, greedy(4)));
  EXPECT_EQ(s.stats().blocks_used, 0);
}

TEST(ServingEngine, ConcurrentCallersGetTheirOwnResultsAndCancellationFreesBlocks) {
  Model& m = tiny();
  const int vocab = m.config().vocab_size;
  SchedulerOptions so;
  so.block_tokens = 8;
  so.blocks = 256;
  ServingEngine engine(m.backend(), m.tokenizer(), so);
  std::vector<std::vector<int32_t>> prompts, got(6);
  for (int i = 0; i < 6; ++i) prompts.push_back(random_prompt(10 + 9 * i, 80 + i, vocab));
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      int streamed = 0;
      got[i] = engine
                   .generate(prompts[i], greedy(10),
                             [&](const TokenEvent& e) {
                               streamed += e.id >= 0;
                               return true;
                             })
                   .ids;
      EXPECT_EQ(streamed, static_cast<int>(got[i].size()));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(got[i], alone(m, prompts[i], greedy(10)));

  int seen = 0;
  const auto cancelled =
      engine.generate(prompts[0], greedy(200), [&](const TokenEvent&) { return ++seen < 3; });
  EXPECT_EQ(cancelled.finish_reason, "cancelled");
  EXPECT_LT(cancelled.ids.size(), 200u);
  EXPECT_EQ(engine.stats().blocks_used, 0);
  EXPECT_EQ(engine.stats().running, 0);
  EXPECT_THROW(engine.generate(prompts[0], greedy(100000)), std::invalid_argument);
}

}  // namespace
}  // namespace agentrt::engine::serving
