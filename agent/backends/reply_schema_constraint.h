// Structured output on the local engine (an OpenAI response_format): masks the vocabulary so the whole reply
// is one JSON value valid for a schema (opening with the value itself, no whitespace first), then the end of
// the turn. When tool calls are allowed as well, the
// reply may instead open with <|action_start|><|plugin|>; what follows is then a call of a declared tool
// (held to the tools' schemas by a ToolCallConstraint when one is given), not the JSON reply.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "agent/backends/json_schema_matcher.h"
#include "agent/backends/tool_call_constraint.h"
#include "agent/backends/vocabulary_index.h"
#include "agent/protocol.h"
#include "engine/logits_processor.h"

namespace agentrt::agent {

class ReplySchemaConstraint : public engine::LogitsProcessor {
 public:
  // `end_ids`: the tokens that end the turn (<|im_end|>, </s>), allowed once the JSON value is complete.
  // `calls`: when not null, a reply opening with <|action_start|> is handed to it (and it sees every token
  // from then on); `allow_calls` without `calls` lets that call run unconstrained. Throws
  // std::invalid_argument for a schema the matcher cannot hold (CompiledSchema::value).
  ReplySchemaConstraint(std::shared_ptr<const VocabularyIndex> vocabulary, const Json& schema,
                        std::vector<int32_t> end_ids, const MarkerIds& markers, bool allow_calls,
                        std::unique_ptr<ToolCallConstraint> calls = nullptr);

  void process(std::span<float> logits) override;
  void accept(int32_t token) override;

  // The reply is a complete JSON value (the turn may end).
  bool complete() const { return matcher_.complete(); }
  // The reply opened with a tool call instead.
  bool in_call() const { return state_ == State::CallChannel || state_ == State::Call; }

 private:
  enum class State { Start, Json, CallChannel, Call };

  std::shared_ptr<const VocabularyIndex> vocabulary_;
  std::shared_ptr<const CompiledSchema> schema_;
  JsonSchemaMatcher matcher_;
  std::vector<int32_t> end_ids_;
  int32_t action_start_ = -1;
  int32_t plugin_ = -1;
  bool allow_calls_ = false;
  std::unique_ptr<ToolCallConstraint> calls_;
  State state_ = State::Start;
  std::vector<uint8_t> allowed_;
};

}  // namespace agentrt::agent
