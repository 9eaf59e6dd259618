// Streams one plugin call's arguments while the model writes them: reads the raw text of the call block as it
// grows ({"name": "f", "parameters": {...}}), reports the name once its string is complete, and hands out the
// bytes of the parameters object as they arrive, exactly as written, so that the deltas a client adds up
// are the arguments string the call ends with (ChatReply then uses that text as the call's `arguments`).
#pragma once

#include <string>
#include <string_view>

#include "agent/schema.h"

namespace agentrt::server {

class CallArgumentsStream {
 public:
  // `raw`: the call block's text so far (each call extends the previous one).
  void update(std::string_view raw);

  bool has_name() const { return has_name_; }
  const std::string& name() const { return name_; }
  // The parameters object's text read so far, and whether it is complete.
  const std::string& arguments() const { return arguments_; }
  bool arguments_complete() const { return args_closed_; }
  // Of arguments(), the part not yet taken; take_released() marks it taken.
  std::string take_released();
  size_t released() const { return released_; }

  // The arguments string of the finished call: the text as written when it is a JSON object equal to
  // `parsed` (what the parser made of the call), else `parsed` serialized.
  std::string final_arguments(const Json& parsed) const;

 private:
  enum class State { Seek, Key, KeyString, Colon, ValueStart, NameString, Value, Arguments, Comma, Done };
  void step(char c);

  size_t pos_ = 0;  // bytes of raw consumed
  State state_ = State::Seek;
  std::string key_;        // the key being read (JSON text, quotes included)
  std::string name_text_;  // the name string being read (JSON text)
  bool has_name_ = false;
  std::string name_;
  // Generic skipping of a value, and the parameters object: nesting, strings and escapes.
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  std::string arguments_;
  bool args_seen_ = false;
  bool args_closed_ = false;
  size_t released_ = 0;
};

}  // namespace agentrt::server
