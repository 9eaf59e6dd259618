#include "agent/backends/tool_call_constraint.h"

#include <limits>
#include <stdexcept>

namespace agentrt::agent {

ToolCallConstraint::ToolCallConstraint(std::shared_ptr<const VocabularyIndex> vocabulary, const Json& tools,
                                       const MarkerIds& markers)
    : vocabulary_(std::move(vocabulary)), schema_(CompiledSchema::tool_call(tools)) {
  for (const auto& [id, marker] : markers) {
    if (marker == Marker::ActionStart) action_start_ = id;
    if (marker == Marker::ActionEnd) action_end_ = id;
    if (marker == Marker::Plugin) plugin_ = id;
    if (marker == Marker::Interpreter) interpreter_ = id;
  }
  if (action_start_ < 0 || action_end_ < 0 || plugin_ < 0) {
    throw std::invalid_argument(
        "constrained tool calls need the ids of <|action_start|>, <|plugin|> and <|action_end|> in the "
        "vocabulary");
  }
}

void ToolCallConstraint::process(std::span<float> logits) {
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  if (state_ == State::Free) return;
  if (state_ == State::AfterActionStart) {
    for (size_t i = 0; i < logits.size(); ++i) {
      const auto id = static_cast<int32_t>(i);
      if (id != plugin_ && id != interpreter_) logits[i] = kMasked;
    }
    return;
  }
  vocabulary_->allowed_tokens(*matcher_, allowed_);
  if (matcher_->complete()) allowed_[static_cast<size_t>(action_end_)] = 1;
  const size_t n = std::min(logits.size(), allowed_.size());
  for (size_t i = 0; i < n; ++i) {
    if (!allowed_[i]) logits[i] = kMasked;
  }
  for (size_t i = n; i < logits.size(); ++i) logits[i] = kMasked;
  ++masked_steps_;
}

void ToolCallConstraint::accept_text(std::string_view bytes) {
  if (state_ == State::InCall) matcher_->feed(bytes);
}

void ToolCallConstraint::accept(int32_t token) {
  switch (state_) {
    case State::Free:
      if (token == action_start_) state_ = State::AfterActionStart;
      break;
    case State::AfterActionStart:
      if (token == plugin_) {
        state_ = State::InCall;
        matcher_.emplace(*schema_);
      } else {
        state_ = State::Free;
      }
      break;
    case State::InCall:
      if (token == action_end_ || token < 0 || static_cast<size_t>(token) >= vocabulary_->size()) {
        state_ = State::Free;
        matcher_.reset();
      } else {
        matcher_->feed(vocabulary_->bytes(token));
      }
      break;
  }
}

}  // namespace agentrt::agent
