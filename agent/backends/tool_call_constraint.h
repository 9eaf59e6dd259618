// Tool calls valid by construction: watches the generated tokens, and once the model has opened
// <|action_start|><|plugin|>, masks the vocabulary so that what follows is one JSON object
// {"name": <a registered tool>, "parameters": <an object valid for that tool's schema>} and then
// <|action_end|>. Outside plugin calls it leaves the logits alone (after <|action_start|> it only insists on
// a channel marker).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "agent/backends/json_schema_matcher.h"
#include "agent/backends/vocabulary_index.h"
#include "agent/protocol.h"
#include "engine/logits_processor.h"

namespace agentrt::agent {

class ToolCallConstraint : public engine::LogitsProcessor {
 public:
  // `tools`: descriptions [{"name", "parameters"}] (as ToolRegistry::plugin_descriptions() gives them);
  // `markers`: the ids of the protocol's special tokens in this vocabulary (action_start, plugin,
  // interpreter and action_end are required). Throws std::invalid_argument when a marker id is missing.
  ToolCallConstraint(std::shared_ptr<const VocabularyIndex> vocabulary, const Json& tools,
                     const MarkerIds& markers);

  void process(std::span<float> logits) override;
  void accept(int32_t token) override;
  // Inside a call: text already given (e.g. by the prompt) as if generated.
  void accept_text(std::string_view bytes);

  // True while a plugin call is being constrained.
  bool in_call() const { return state_ == State::InCall; }
  // Tokens masked so far (for measurements).
  long long masked_steps() const { return masked_steps_; }

 private:
  enum class State { Free, AfterActionStart, InCall };

  std::shared_ptr<const VocabularyIndex> vocabulary_;
  std::shared_ptr<const CompiledSchema> schema_;
  int32_t action_start_ = -1, action_end_ = -1, plugin_ = -1, interpreter_ = -1;
  State state_ = State::Free;
  std::optional<JsonSchemaMatcher> matcher_;
  std::vector<uint8_t> allowed_;
  long long masked_steps_ = 0;
};

}  // namespace agentrt::agent
