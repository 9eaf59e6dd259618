#include "apps/server/tool_call_stream.h"

namespace agentrt::server {
namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

}  // namespace

void CallArgumentsStream::update(std::string_view raw) {
  for (; pos_ < raw.size() && state_ != State::Done; ++pos_) step(raw[pos_]);
}

void CallArgumentsStream::step(char c) {
  // A string's own bytes (value skipping, the parameters object, the name): escapes and the closing quote.
  auto string_byte = [&](char ch) {
    if (escaped_) {
      escaped_ = false;
    } else if (ch == '\\') {
      escaped_ = true;
    } else if (ch == '"') {
      in_string_ = false;
    }
  };
  switch (state_) {
    case State::Seek:
      if (c == '{') state_ = State::Key;  // a ```json fence or a newline before the object is skipped
      return;
    case State::Key:
      if (is_ws(c) || c == ',') return;
      if (c == '"') {
        key_ = "\"";
        in_string_ = true;
        state_ = State::KeyString;
        return;
      }
      state_ = State::Done;  // '}' or not JSON: nothing more to stream
      return;
    case State::KeyString:
      key_ += c;
      string_byte(c);
      if (!in_string_) state_ = State::Colon;
      return;
    case State::Colon:
      if (is_ws(c)) return;
      state_ = c == ':' ? State::ValueStart : State::Done;
      return;
    case State::ValueStart: {
      if (is_ws(c)) return;
      const Json key = Json::parse(key_, nullptr, false);
      const std::string k = key.is_string() ? key.get<std::string>() : "";
      if (k == "name" && c == '"' && !has_name_) {
        name_text_ = "\"";
        in_string_ = true;
        state_ = State::NameString;
      } else if ((k == "parameters" || k == "arguments") && c == '{' && !args_seen_) {
        args_seen_ = true;
        arguments_ = "{";
        depth_ = 1;
        in_string_ = false;
        state_ = State::Arguments;
      } else {
        depth_ = (c == '{' || c == '[') ? 1 : 0;
        in_string_ = c == '"';
        state_ = State::Value;
      }
      return;
    }
    case State::NameString:
      name_text_ += c;
      string_byte(c);
      if (!in_string_) {
        const Json name = Json::parse(name_text_, nullptr, false);
        if (name.is_string()) {
          name_ = name.get<std::string>();
          has_name_ = true;
        }
        state_ = State::Comma;
      }
      return;
    case State::Value:
      if (in_string_) {
        string_byte(c);
        if (!in_string_ && depth_ == 0) state_ = State::Comma;
        return;
      }
      if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        ++depth_;
      } else if (c == '}' || c == ']') {
        if (depth_ == 0) {
          state_ = State::Done;  // a scalar value ended by the object's close
        } else if (--depth_ == 0) {
          state_ = State::Comma;
        }
      } else if (c == ',' && depth_ == 0) {
        state_ = State::Key;
      }
      return;
    case State::Arguments:
      arguments_ += c;
      if (in_string_) {
        string_byte(c);
        return;
      }
      if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        ++depth_;
      } else if ((c == '}' || c == ']') && --depth_ == 0) {
        args_closed_ = true;
        state_ = State::Comma;
      }
      return;
    case State::Comma:
      if (is_ws(c)) return;
      state_ = c == ',' ? State::Key : State::Done;
      return;
    case State::Done:
      return;
  }
}

std::string CallArgumentsStream::take_released() {
  if (!has_name_ || released_ >= arguments_.size()) return "";
  std::string out = arguments_.substr(released_);
  released_ = arguments_.size();
  return out;
}

std::string CallArgumentsStream::final_arguments(const Json& parsed) const {
  if (args_closed_) {
    const Json written = Json::parse(arguments_, nullptr, false);
    if (!written.is_discarded() && written.is_object() && written == parsed) return arguments_;
  }
  return parsed.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace agentrt::server
