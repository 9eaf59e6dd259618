// LocalEngineBackend: the agent's LLMBackend on the engine, with the tiny checkpoint.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "agent/action_parser.h"
#include "agent/backends/backend_local.h"
#include "agent/schema_validator.h"
#include "engine/logits_processor.h"
#include "engine/serving/serving_engine.h"
#include "engine/tokenizer.h"
#include "tests/engine/test_support.h"

namespace agentrt::agent {
namespace {

LocalEngineOptions quiet() {
  LocalEngineOptions options;
  options.progress = false;
  return options;
}

TEST(LocalEngineBackend, MarkerIdsComeFromTheTokenizer) {
  LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
  const auto ids = backend.marker_ids();
  const int vocab = backend.tokenizer().vocab_size();
  EXPECT_EQ(ids.at(vocab - 1), Marker::ImStart);
  EXPECT_EQ(ids.at(vocab - 2), Marker::ImEnd);
  EXPECT_EQ(ids.at(vocab - 3), Marker::ActionStart);
  EXPECT_EQ(ids.at(vocab - 4), Marker::ActionEnd);
  EXPECT_EQ(ids.at(vocab - 5), Marker::Interpreter);
  EXPECT_EQ(ids.at(vocab - 6), Marker::Plugin);
  EXPECT_EQ(ids.at(1), Marker::Bos);
  EXPECT_EQ(ids.at(2), Marker::Eos);
  EXPECT_EQ(ids.size(), 8u);
}

TEST(LocalEngineBackend, StreamsOneChunkPerTokenWithItsId) {
  LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
  GenerationParams params;
  params.max_tokens = 16;
  std::vector<TokenChunk> chunks;
  const auto completion = backend.generate("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", params,
                                           [&](const TokenChunk& c) {
                                             chunks.push_back(c);
                                             return true;
                                           });
  // "<s>" + the rendered prompt's tokens.
  EXPECT_EQ(
      completion.prompt_tokens,
      static_cast<int>(
          backend.tokenizer().encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n").size()));
  std::string text;
  std::vector<int32_t> ids;
  for (const auto& c : chunks) {
    EXPECT_LE(c.ids.size(), 1u);
    text += c.text;
    ids.insert(ids.end(), c.ids.begin(), c.ids.end());
  }
  EXPECT_EQ(ids, completion.ids);
  EXPECT_EQ(text, completion.text);
  EXPECT_EQ(completion.completion_tokens, static_cast<int>(completion.ids.size()));
  EXPECT_TRUE(completion.finish_reason == "length" || completion.finish_reason == "stop");
  // Greedy is deterministic.
  const auto again = backend.generate("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", params, {});
  EXPECT_EQ(again.ids, completion.ids);
}

TEST(LocalEngineBackend, CancelAndStopStrings) {
  LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
  GenerationParams params;
  params.max_tokens = 16;
  params.stop_ids = {};
  const auto free_run = backend.generate("hello", params, {});
  ASSERT_GE(free_run.ids.size(), 4u);
  params.stop_ids = {free_run.ids[3]};
  const auto stopped = backend.generate("hello", params, {});
  EXPECT_EQ(stopped.finish_reason, "stop");
  int calls = 0;
  const auto cancelled =
      backend.generate("hello", GenerationParams{}, [&](const TokenChunk&) { return ++calls < 2; });
  EXPECT_EQ(cancelled.finish_reason, "cancelled");
}

// Lets only <|im_end|> through after two free tokens.
class EndAfterTwo : public engine::LogitsProcessor {
 public:
  explicit EndAfterTwo(int32_t im_end) : im_end_(im_end) {}
  void process(std::span<float> logits) override {
    if (seen_ < 2) return;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      if (static_cast<int32_t>(i) != im_end_) logits[i] = -1e30f;
    }
  }
  void accept(int32_t) override { ++seen_; }

 private:
  int32_t im_end_;
  int seen_ = 0;
};

TEST(LocalEngineBackend, GenerateWithALogitsProcessor) {
  LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
  const int32_t im_end = *backend.tokenizer().special_id("<|im_end|>");
  EndAfterTwo processor(im_end);
  GenerationParams params;
  params.max_tokens = 10;
  const auto completion = backend.generate_with("hello", params, {}, &processor);
  EXPECT_EQ(completion.ids.size(), 2u);
  EXPECT_EQ(completion.finish_reason, "stop");
  EXPECT_EQ(completion.stop, "<|im_end|>");
}

const Json& convert_tools() {
  static const Json tools = Json::parse(R"([
    {"name": "convert", "parameters": {"type": "object", "properties": {
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "value": {"type": "integer"},
        "round": {"type": "boolean"}}, "required": ["unit", "value"]}},
    {"name": "now", "parameters": {"type": "object", "properties": {}}}])");
  return tools;
}

const std::string kForcedCallPrompt =
    "<|im_start|>user\nconvert<|im_end|>\n<|im_start|>assistant\n<|action_start|><|plugin|>\n";

GenerationParams forced_call_params(int seed, bool constrained) {
  GenerationParams params;
  params.temperature = 1.0f;
  params.seed = static_cast<uint64_t>(seed);
  params.max_tokens = 256;
  params.stop = {"<|action_end|>"};
  if (constrained) params.constrain_tools = convert_tools();
  return params;
}

// Whether the text after a forced plugin opener is one call that parses and fits its tool's schema.
bool valid_call(const std::string& text) {
  const auto reply = ActionParser::parse("<|action_start|><|plugin|>\n" + text + "<|action_end|>");
  if (reply.actions.size() != 1 || !reply.actions[0].valid) return false;
  for (const auto& t : convert_tools()) {
    if (t["name"] == reply.actions[0].name)
      return validate_against_schema(t["parameters"], reply.actions[0].arguments).empty();
  }
  return false;
}

// A random model forced into a plugin call: with the constraint every call parses and fits the schema;
// without it nearly none does. (The figures of the note come from this test's output.)
TEST(LocalEngineBackend, ConstrainedToolCallsAreValidEvenFromARandomModel) {
  LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
  int valid[2] = {0, 0};
  const int trials = 12;
  for (int constrained = 0; constrained < 2; ++constrained) {
    for (int seed = 1; seed <= trials; ++seed) {
      const auto completion = backend.generate(kForcedCallPrompt, forced_call_params(seed, constrained), {});
      const bool ok = valid_call(completion.text);
      valid[constrained] += ok;
      if (constrained) {
        EXPECT_TRUE(ok) << "seed " << seed << " (" << completion.finish_reason << ", "
                        << completion.ids.size() << " tokens): " << completion.text << " ids "
                        << ::testing::PrintToString(completion.ids);
      }
    }
  }
  std::printf("constrained tool calls from a random model: %d/%d valid with the constraint, %d/%d without\n",
              valid[1], trials, valid[0], trials);
  EXPECT_EQ(valid[1], trials);
  EXPECT_LE(valid[0], 1);
}

// Through the continuous-batching engine, concurrent constrained calls each keep their own constraint (a
// logits processor per request) and produce exactly what they produce one at a time.
TEST(LocalEngineBackend, ConcurrentConstrainedCallsThroughTheServingEngine) {
  const int trials = 8;
  std::vector<Completion> alone(trials + 1), batched(trials + 1);
  {
    LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
    for (int seed = 1; seed <= trials; ++seed)
      alone[seed] = backend.generate(kForcedCallPrompt, forced_call_params(seed, true), {});
  }
  LocalEngineBackend backend(engine::testing::tiny_model(), quiet());
  backend.start_serving({});
  ASSERT_NE(backend.serving(), nullptr);
  std::vector<std::thread> threads;
  for (int seed = 1; seed <= trials; ++seed) {
    threads.emplace_back([&, seed] {
      batched[seed] = backend.generate(kForcedCallPrompt, forced_call_params(seed, true), {});
    });
  }
  for (auto& t : threads) t.join();
  for (int seed = 1; seed <= trials; ++seed) {
    EXPECT_TRUE(valid_call(batched[seed].text)) << batched[seed].text;
    EXPECT_EQ(batched[seed].ids, alone[seed].ids) << "seed " << seed;
  }
  EXPECT_EQ(backend.serving()->stats().blocks_used, 0);
  EXPECT_THROW(backend.start_serving({}), std::logic_error);
}

TEST(LocalEngineBackend, MissingModelIsAClearError) {
  try {
    LocalEngineBackend backend(engine::testing::temp_dir("no-model"), quiet());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("local engine: cannot load the model:"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("config.json: cannot open the model config"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace agentrt::agent
