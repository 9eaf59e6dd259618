// The streaming parser of model output (../shared/spec/internlm2-protocol.md §6): separates free text from
// tool-call blocks
// `<|action_start|><|plugin|>{json}<|action_end|>` and
// `<|action_start|><|interpreter|>```code```<|action_end|>`. Markers are decided on token ids where the
// backend gives them (one id per chunk), and on their text in either spelling (`<|action_start|>` or
// `[UNUSED_TOKEN_144]`) otherwise. Text is released as soon as it cannot be the start of a marker any more; a
// call left open when generation ends is closed by the end itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/llm_backend.h"
#include "agent/protocol.h"
#include "agent/schema.h"

namespace agentrt::agent {

struct ParserEvent {
  enum class Kind {
    Text,         // free text safe to show the user
    ActionStart,  // a call block opened (its channel is in action.channel once known)
    Action,       // a call block closed and parsed (valid or not)
  };
  Kind kind = Kind::Text;
  std::string text;
  Action action;
};

struct ParsedReply {
  std::string text;              // all free text, outside any call block
  std::string thought;           // the free text before the first call block
  std::vector<Action> actions;   // in order
  bool ended_by_im_end = false;  // the turn was closed by <|im_end|> or EOS
};

class ActionParser {
 public:
  // `missing_code_hint`: how to send code, told to an interpreter call that holds none (the interpreter
  // tool's ChannelPrompt::missing_code_hint; "" for a generic hint).
  explicit ActionParser(MarkerIds marker_ids = {}, std::string missing_code_hint = "");

  // Feeds one streamed chunk; returns the events it completes.
  std::vector<ParserEvent> feed(const TokenChunk& chunk);
  std::vector<ParserEvent> feed_text(std::string_view text) {
    return feed(TokenChunk{std::string(text), {}});
  }
  // End of generation: releases held-back text and closes an open call.
  std::vector<ParserEvent> finish();

  const ParsedReply& reply() const { return reply_; }
  // The call block being read, once its channel is known (channel and raw text so far), or null: lets a
  // caller stream a call's arguments while the model writes them.
  const Action* open_call() const { return state_ == State::InAction ? &current_ : nullptr; }

  // Parses a whole reply at once (text only).
  static ParsedReply parse(std::string_view text);

 private:
  enum class State { Text, AfterActionStart, InAction, Done };
  void on_marker(Marker marker, std::vector<ParserEvent>& events);
  void on_text(std::string_view text, std::vector<ParserEvent>& events);
  void scan_pending(bool final, std::vector<ParserEvent>& events);
  void emit_text(std::string_view text, std::vector<ParserEvent>& events);
  void close_action(bool closed, std::vector<ParserEvent>& events);

  MarkerIds marker_ids_;
  std::string missing_code_hint_;
  State state_ = State::Text;
  std::string pending_;  // text not yet classified (may hold the beginning of a marker)
  Action current_;       // the call block being read
  bool seen_action_ = false;
  ParsedReply reply_;
};

// Builds an Action from the raw text of a plugin block (after <|plugin|>): fenced JSON, "parameters" or
// "arguments", string-encoded arguments, trailing text ignored; invalid → valid=false with the reason.
Action parse_plugin_call(std::string_view raw);
// Builds an Action from the raw text of an interpreter block: a fenced code block of any label, or bare code.
// A block without code is invalid; its error ends with `missing_code_hint` (or a generic hint when empty).
Action parse_interpreter_call(std::string_view raw, const std::string& missing_code_hint = "");

}  // namespace agentrt::agent
