// Cost of constrained tool calls per generated token at the InternLM2 vocabulary size (92,544), beside the
// CPU decode step of a model, so the overhead reads as a fraction of the step it adds to.
//
// The vocabulary: the first 92,538 pieces of the real InternLM-7B tokenizer (../shared/tokenizers, a real
// 100k-piece BPE vocabulary with byte fallback) plus the six protocol markers at InternLM2's ids
// 92538..92543.
// ($AGENTRT_SHARED_DIR overrides where shared/ is.) The decode step: the model in $AGENTRT_BENCH_MODEL (e.g.
// `agentrt make-model --preset 1_8b --out DIR`); without it only the mask cost is measured.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "agent/backends/tool_call_constraint.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

constexpr int kVocab = 92544;

const Json kTools = Json::parse(R"([
  {"name": "calculator", "description": "Evaluate an arithmetic expression",
   "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}},
  {"name": "search", "description": "Search documents",
   "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "top_k": {"type": "integer"},
                  "source": {"type": "string", "enum": ["local", "web"]}}, "required": ["query"]}},
  {"name": "open_url", "description": "Open a page",
   "parameters": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}},
  {"name": "http", "description": "Call a web API",
   "parameters": {"type": "object", "properties": {"url": {"type": "string"}, "method": {"type": "string",
                  "enum": ["GET", "POST", "PUT", "DELETE"]}, "headers": {"type": "object"}, "query": {"type": "object"},
                  "body": {"type": ["string", "object"]}}, "required": ["url"]}}
])");

struct Setup {
  std::unique_ptr<engine::Tokenizer> tokenizer;
  std::shared_ptr<VocabularyIndex> index;
  MarkerIds markers = internlm2_marker_ids();
  std::vector<int32_t> call;  // tokens of a realistic call, after <|action_start|><|plugin|>
};

Setup& setup() {
  static Setup s = [] {
    Setup s;
    const char* shared = std::getenv("AGENTRT_SHARED_DIR");
    const std::string path =
        (shared != nullptr ? std::string(shared) : std::string(AGENTRT_SOURCE_DIR) + "/../shared") +
        "/tokenizers/internlm-7b-v1.model";
    s.tokenizer = std::make_unique<engine::Tokenizer>(engine::Tokenizer::from_files(path, ""));
    std::vector<std::string> bytes(kVocab);
    std::vector<bool> control(kVocab, false);
    for (int i = 0; i < kVocab; ++i) {
      if (i < 92538) bytes[static_cast<size_t>(i)] = s.tokenizer->token_bytes(i);
      control[static_cast<size_t>(i)] = i < 3 || i >= 92538 || s.tokenizer->is_special(i);
    }
    s.index = std::make_shared<VocabularyIndex>(std::move(bytes), std::move(control));
    for (int32_t id : s.tokenizer->encode("\n{\"name\": \"search\", \"parameters\": {\"query\": \"population "
                                          "of Shanghai in 2023 according to the "
                                          "city statistics bureau\", \"top_k\": 5, \"source\": \"local\"}}",
                                          false)) {
      if (id < 92538) s.call.push_back(id);
    }
    return s;
  }();
  return s;
}

void BM_ConstrainedCallPerToken(benchmark::State& state) {
  Setup& s = setup();
  std::vector<float> logits(kVocab, 0.0f);
  for (auto _ : state) {
    ToolCallConstraint c(s.index, kTools, s.markers);
    c.accept(92541);
    c.accept(92538);
    for (int32_t id : s.call) {
      c.process(logits);
      c.accept(id);
    }
    benchmark::DoNotOptimize(logits.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.call.size()));
  state.counters["us_per_token"] =
      benchmark::Counter(static_cast<double>(state.iterations() * s.call.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["call_tokens"] = static_cast<double>(s.call.size());
}
BENCHMARK(BM_ConstrainedCallPerToken)->Unit(benchmark::kMillisecond);

// Free text outside calls: the processor only looks at each token.
void BM_UnconstrainedTextPerToken(benchmark::State& state) {
  Setup& s = setup();
  std::vector<float> logits(kVocab, 0.0f);
  ToolCallConstraint c(s.index, kTools, s.markers);
  for (auto _ : state) {
    for (int32_t id : s.call) {
      c.process(logits);
      c.accept(id);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.call.size()));
}
BENCHMARK(BM_UnconstrainedTextPerToken);

void BM_BuildVocabularyIndex(benchmark::State& state) {
  Setup& s = setup();
  std::vector<std::string> bytes(kVocab);
  for (int i = 3; i < 92538; ++i) bytes[static_cast<size_t>(i)] = s.tokenizer->token_bytes(i);
  for (auto _ : state) {
    VocabularyIndex index(bytes, {});
    benchmark::DoNotOptimize(index.size());
  }
}
BENCHMARK(BM_BuildVocabularyIndex)->Unit(benchmark::kMillisecond);

// The baseline the overhead is measured against: one decode step of the model in $AGENTRT_BENCH_MODEL.
void BM_DecodeStep(benchmark::State& state) {
  const char* dir = std::getenv("AGENTRT_BENCH_MODEL");
  if (dir == nullptr || !std::filesystem::exists(dir)) {
    state.SkipWithError("set AGENTRT_BENCH_MODEL to a checkpoint folder to compare with its decode step");
    return;
  }
  static auto model = engine::Model::load(dir);
  auto& backend = model->backend();
  const int vocab = model->config().vocab_size;
  std::vector<float> logits(static_cast<size_t>(vocab));
  auto cache = backend.new_cache();
  std::vector<int32_t> prompt(32, 100);
  backend.prefill(*cache, prompt, engine::LogitsFor::Last, logits);
  for (auto _ : state) {
    if (cache->length() > 512) cache->truncate(32);
    engine::KvCache* caches[] = {cache.get()};
    const int32_t token = 100;
    backend.decode(caches, std::span<const int32_t>(&token, 1), logits);
  }
  state.counters["vocab"] = vocab;
}
BENCHMARK(BM_DecodeStep)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
