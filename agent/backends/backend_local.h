// LocalEngineBackend: an LLMBackend that runs a checkpoint directory in process on our own engine
// (engine/model.h). It adds <s>, always stops at </s> and <|im_end|> besides the caller's stops, and streams
// one TokenChunk per generated token with that token's id.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "agent/backends/vocabulary_index.h"
#include "agent/llm_backend.h"
#include "engine/serving/scheduler.h"

namespace agentrt::engine {
class LogitsProcessor;
class Model;
class Tokenizer;
namespace serving {
class ServingEngine;
}
}  // namespace agentrt::engine

namespace agentrt::agent {

struct LocalEngineOptions {
  std::string backend = "cpu";               // engine backend ("cpu")
  int threads = 0;                           // CPU threads; 0: all
  std::string weights = "auto";              // auto | int8 | int4 (engine::ModelOptions)
  std::string kv_cache = "auto";             // auto | fp32 | int8 (engine::ModelOptions)
  std::string prefill_activations = "auto";  // auto | fp32 | bf16 (engine::ModelOptions)
  bool progress = true;  // loading progress bar and summary on stderr (bar only on a terminal)
};

class LocalEngineBackend : public LLMBackend {
 public:
  // Loads the checkpoint; throws std::runtime_error with the engine's message (naming the file) when it
  // cannot.
  explicit LocalEngineBackend(const std::filesystem::path& model_dir, LocalEngineOptions options = {});
  ~LocalEngineBackend() override;

  std::string name() const override;
  // One generation at a time (concurrent calls wait for each other) until start_serving(); from then on
  // concurrent calls are batched together by the serving engine. With params.constrain_tools set, every
  // <|plugin|> call is constrained to the given tools' schemas (agent/tool_call_constraint.h).
  Completion generate(const std::string& prompt, const GenerationParams& params,
                      const ChunkCallback& on_chunk) override;
  MarkerIds marker_ids() const override;
  // params.response_schema is held by the sampler (ReplySchemaConstraint), a tool call first allowed.
  SchemaSupport response_schema_support() override { return SchemaSupport::JsonOrCall; }
  // generate() with a logits processor (e.g. a tool-call constraint) consulted at every step; may be null.
  Completion generate_with(const std::string& prompt, const GenerationParams& params,
                           const ChunkCallback& on_chunk, engine::LogitsProcessor* processor);

  // From now on generations go through a continuous-batching engine (engine/serving) with a paged KV cache
  // and a prefix cache shared by all callers. Throws std::invalid_argument when the engine's backend cannot
  // page its cache or the options are bad. Call before the first generation, once.
  void start_serving(const engine::serving::SchedulerOptions& options);
  // Whether the engine's backend has a paged KV cache, which start_serving() needs.
  bool can_serve() const;
  // The serving engine's counters (queue, KV blocks, prefix cache); null before start_serving().
  const engine::serving::ServingEngine* serving() const { return serving_.get(); }

  const engine::Tokenizer& tokenizer() const;
  // What was loaded: shape, dtype, memory, time.
  const std::string& summary() const;

 private:
  // The vocabulary as a trie for constrained calls, built on first use.
  std::shared_ptr<const VocabularyIndex> vocabulary();

  std::unique_ptr<engine::Model> model_;
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::mutex vocabulary_mutex_;
  std::shared_ptr<const VocabularyIndex> vocabulary_;
  std::unique_ptr<engine::serving::ServingEngine> serving_;  // destroyed before model_ (declared after it)
};

}  // namespace agentrt::agent
