#include "agent/backends/reply_schema_constraint.h"

#include <algorithm>
#include <limits>

namespace agentrt::agent {

ReplySchemaConstraint::ReplySchemaConstraint(std::shared_ptr<const VocabularyIndex> vocabulary,
                                             const Json& schema, std::vector<int32_t> end_ids,
                                             const MarkerIds& markers, bool allow_calls,
                                             std::unique_ptr<ToolCallConstraint> calls)
    : vocabulary_(std::move(vocabulary)),
      schema_(CompiledSchema::value(schema)),
      matcher_(*schema_),
      end_ids_(std::move(end_ids)),
      allow_calls_(allow_calls || calls != nullptr),
      calls_(std::move(calls)) {
  for (const auto& [id, marker] : markers) {
    if (marker == Marker::ActionStart) action_start_ = id;
    if (marker == Marker::Plugin) plugin_ = id;
  }
  if (allow_calls_ && (action_start_ < 0 || plugin_ < 0)) {
    throw std::invalid_argument(
        "a reply that may open with a tool call needs the ids of <|action_start|> and <|plugin|>");
  }
}

void ReplySchemaConstraint::process(std::span<float> logits) {
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  if (state_ == State::CallChannel) {
    // The declared tools are plugin calls: the code interpreter's channel is not among them.
    for (size_t i = 0; i < logits.size(); ++i) {
      if (static_cast<int32_t>(i) != plugin_) logits[i] = kMasked;
    }
    return;
  }
  if (state_ == State::Call) {
    if (calls_) calls_->process(logits);
    return;
  }
  vocabulary_->allowed_tokens(matcher_, allowed_);
  allowed_.resize(std::max(allowed_.size(), logits.size()), 0);
  if (state_ == State::Start) {
    // The reply opens with the value itself: clients parse streamed JSON as it grows, and some (the openai
    // packages' stream helpers) refuse a first piece that is only whitespace.
    for (size_t i = 0; i < vocabulary_->size(); ++i) {
      const std::string& b = vocabulary_->bytes(static_cast<int32_t>(i));
      if (allowed_[i] && !b.empty() && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t')) {
        allowed_[i] = 0;
      }
    }
    if (allow_calls_) allowed_[static_cast<size_t>(action_start_)] = 1;
  }
  if (state_ == State::Json && matcher_.complete()) {
    for (const int32_t id : end_ids_) {
      if (id >= 0 && static_cast<size_t>(id) < allowed_.size()) allowed_[static_cast<size_t>(id)] = 1;
    }
  }
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!allowed_[i]) logits[i] = kMasked;
  }
}

void ReplySchemaConstraint::accept(int32_t token) {
  switch (state_) {
    case State::Start:
      if (allow_calls_ && token == action_start_) {
        state_ = State::CallChannel;
        if (calls_) calls_->accept(token);
        return;
      }
      state_ = State::Json;
      [[fallthrough]];
    case State::Json:
      // The end of the turn (allowed once the value is complete) is no JSON text.
      if (std::find(end_ids_.begin(), end_ids_.end(), token) != end_ids_.end()) return;
      if (token >= 0 && static_cast<size_t>(token) < vocabulary_->size())
        matcher_.feed(vocabulary_->bytes(token));
      return;
    case State::CallChannel:
      state_ = State::Call;
      [[fallthrough]];
    case State::Call:
      if (calls_) calls_->accept(token);
      return;
  }
}

}  // namespace agentrt::agent
