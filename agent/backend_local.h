// LocalEngineBackend: an LLMBackend that runs a checkpoint directory in process on our own engine
// (engine/model.h). It adds <s>, always stops at </s> and <|im_end|> besides the caller's stops, and streams
// one TokenChunk per generated token with that token's id.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "agent/llm_backend.h"
#include "agent/vocabulary_index.h"

namespace agentrt::engine {
class LogitsProcessor;
class Model;
class Tokenizer;
}  // namespace agentrt::engine

namespace agentrt::agent {

struct LocalEngineOptions {
  std::string backend = "cpu";  // engine backend ("cpu")
  int threads = 0;              // CPU threads; 0: all
  bool progress = true;         // loading progress bar and summary on stderr (bar only on a terminal)
};

class LocalEngineBackend : public LLMBackend {
 public:
  // Loads the checkpoint; throws std::runtime_error with the engine's message (naming the file) when it
  // cannot.
  explicit LocalEngineBackend(const std::filesystem::path& model_dir, LocalEngineOptions options = {});
  ~LocalEngineBackend() override;

  std::string name() const override;
  // One generation at a time: concurrent calls wait for each other. With params.constrain_tools set, every
  // <|plugin|> call is constrained to the given tools' schemas (agent/tool_call_constraint.h).
  Completion generate(const std::string& prompt, const GenerationParams& params,
                      const ChunkCallback& on_chunk) override;
  MarkerIds marker_ids() const override;
  // generate() with a logits processor (e.g. a tool-call constraint) consulted at every step; may be null.
  Completion generate_with(const std::string& prompt, const GenerationParams& params,
                           const ChunkCallback& on_chunk, engine::LogitsProcessor* processor);

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
};

}  // namespace agentrt::agent
