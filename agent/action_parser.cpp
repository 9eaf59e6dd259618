#include "agent/action_parser.h"

#include <algorithm>

#include "agent/json_scan.h"

namespace agentrt::agent {
namespace {

// Markers recognised in text. <s> and </s> are left out: "</s>" is ordinary HTML, and they matter only as
// ids.
bool text_marker(Marker m) {
  return m != Marker::Bos && m != Marker::Eos;
}

struct Found {
  size_t pos = std::string::npos;
  size_t len = 0;
  Marker marker = Marker::ImEnd;
};

// Every marker spelling begins with '<' ("<|...|>") or '[' ("[UNUSED_TOKEN_...]"), so only those bytes are
// candidates: one pass over the text, whatever the number of spellings.
constexpr std::string_view kMarkerFirstBytes = "<[";

Found find_first_marker(std::string_view s, size_t from) {
  for (size_t pos = s.find_first_of(kMarkerFirstBytes, from); pos != std::string_view::npos;
       pos = s.find_first_of(kMarkerFirstBytes, pos + 1)) {
    const std::string_view rest = s.substr(pos);
    for (const auto& sp : kMarkers) {
      if (!text_marker(sp.token)) continue;
      for (std::string_view spelling : spellings_of(sp.token)) {
        if (!spelling.empty() && rest.starts_with(spelling)) return {pos, spelling.size(), sp.token};
      }
    }
  }
  return {};
}

// Length of the longest suffix of `s` that is a proper prefix of some marker spelling.
size_t partial_marker_suffix(std::string_view s) {
  constexpr size_t kLongestSpelling = 18;  // "[UNUSED_TOKEN_146]"
  const size_t window = std::min(s.size(), kLongestSpelling - 1);
  for (size_t pos = s.size() - window; pos < s.size(); ++pos) {
    if (s[pos] != '<' && s[pos] != '[') continue;
    const std::string_view tail = s.substr(pos);
    for (const auto& sp : kMarkers) {
      if (!text_marker(sp.token)) continue;
      for (std::string_view spelling : spellings_of(sp.token)) {
        if (spelling.size() > tail.size() && spelling.starts_with(tail)) return tail.size();
      }
    }
  }
  return 0;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The first balanced {...} of `s`: its start and length (npos length when it never closes).
std::pair<size_t, size_t> balanced_object(std::string_view s) {
  const size_t start = s.find('{');
  if (start == std::string_view::npos) return {std::string_view::npos, 0};
  return {start, balanced_json_length(s, start)};
}

Action invalid(Action a, std::string why) {
  a.valid = false;
  a.error = std::move(why);
  return a;
}

}  // namespace

Action parse_plugin_call(std::string_view raw) {
  Action a;
  a.channel = Channel::Plugin;
  a.raw = std::string(raw);
  std::string_view s = trim_left(raw);
  if (s.substr(0, 3) == "```") {
    auto eol = s.find('\n');
    s = eol == std::string_view::npos ? std::string_view() : s.substr(eol + 1);
    auto close = s.find("```");
    if (close != std::string_view::npos) s = s.substr(0, close);
  }
  auto [start, len] = balanced_object(s);
  if (start == std::string_view::npos) {
    return invalid(a,
                   "invalid json format: after <|plugin|> write one JSON object "
                   "{\"name\": \"<tool>\", \"parameters\": {...}}");
  }
  if (len == std::string_view::npos) {
    return invalid(a, "invalid json format: the JSON object of the call is not closed (missing '}')");
  }
  Json call = Json::parse(s.substr(start, len), nullptr, false);
  if (call.is_discarded()) {
    return invalid(a,
                   "invalid json format: the call is not valid JSON; write {\"name\": \"<tool>\", "
                   "\"parameters\": {...}} with double-quoted keys and strings");
  }
  if (!call.contains("name") || !call["name"].is_string() || call["name"].get<std::string>().empty()) {
    return invalid(a, "invalid json format: the call needs a \"name\" naming the tool");
  }
  a.name = call["name"].get<std::string>();
  Json args = Json::object();
  if (call.contains("parameters")) {
    args = call["parameters"];
  } else if (call.contains("arguments")) {
    args = call["arguments"];
  }
  if (args.is_string()) {
    // Some models (and OpenAI-style servers) encode the arguments as a JSON string.
    Json decoded = Json::parse(args.get<std::string>(), nullptr, false);
    if (decoded.is_discarded())
      return invalid(a, "invalid json format: \"parameters\" is a string that is not JSON");
    args = decoded;
  }
  if (args.is_null()) args = Json::object();
  if (!args.is_object()) return invalid(a, "invalid json format: \"parameters\" must be a JSON object");
  a.arguments = std::move(args);
  return a;
}

Action parse_interpreter_call(std::string_view raw, const std::string& missing_code_hint) {
  Action a;
  a.channel = Channel::Interpreter;
  a.name = std::string(kInterpreterToolName);
  a.raw = std::string(raw);
  std::string_view s = trim_left(raw);
  const auto fence = s.find("```");
  if (fence != std::string_view::npos) {
    std::string_view after = s.substr(fence + 3);
    auto eol = after.find('\n');
    a.language = std::string(trim(after.substr(0, eol)));
    std::string_view body = eol == std::string_view::npos ? std::string_view() : after.substr(eol + 1);
    auto close = body.find("```");
    a.code = std::string(close == std::string_view::npos ? body : body.substr(0, close));
  } else {
    a.code = std::string(s);
  }
  while (!a.code.empty() && (a.code.back() == '\n' || a.code.back() == '\r' || a.code.back() == ' ')) {
    a.code.pop_back();
  }
  if (trim(a.code).empty()) {
    return invalid(a, "the interpreter call holds no code; " +
                          (missing_code_hint.empty() ? std::string("put the code in a fenced code block")
                                                     : missing_code_hint));
  }
  return a;
}

ActionParser::ActionParser(MarkerIds marker_ids, std::string missing_code_hint)
    : marker_ids_(std::move(marker_ids)), missing_code_hint_(std::move(missing_code_hint)) {}

void ActionParser::emit_text(std::string_view text, std::vector<ParserEvent>& events) {
  if (text.empty()) return;
  switch (state_) {
    case State::Text:
      reply_.text += text;
      if (!seen_action_) reply_.thought += text;
      if (!events.empty() && events.back().kind == ParserEvent::Kind::Text) {
        events.back().text += text;
      } else {
        events.push_back({ParserEvent::Kind::Text, std::string(text), {}});
      }
      break;
    case State::AfterActionStart:
      // Text where the channel marker should be: kept (whitespace too, however it was chunked), and once it
      // is more than whitespace the block is read anyway and reported for its missing channel.
      current_.raw += text;
      if (!trim(current_.raw).empty()) state_ = State::InAction;
      break;
    case State::InAction:
      current_.raw += text;
      break;
    case State::Done:
      break;
  }
}

void ActionParser::close_action(bool closed, std::vector<ParserEvent>& events) {
  Action a;
  if (current_.name == "\x01no-channel") {
    a = current_;
    a.name.clear();
    a.valid = false;
    a.error =
        "invalid action: <|action_start|> must be followed by <|plugin|> (a JSON call) or <|interpreter|> "
        "(a fenced code block)";
  } else if (current_.channel == Channel::Plugin) {
    a = parse_plugin_call(current_.raw);
  } else {
    a = parse_interpreter_call(current_.raw, missing_code_hint_);
  }
  a.closed = closed;
  reply_.actions.push_back(a);
  events.push_back({ParserEvent::Kind::Action, "", a});
  seen_action_ = true;
  current_ = Action{};
}

void ActionParser::on_marker(Marker marker, std::vector<ParserEvent>& events) {
  const bool end_of_turn = marker == Marker::ImEnd || marker == Marker::Eos || marker == Marker::ImStart;
  switch (state_) {
    case State::Text:
      if (marker == Marker::ActionStart || marker == Marker::Plugin || marker == Marker::Interpreter) {
        current_ = Action{};
        if (marker == Marker::ActionStart) {
          current_.name = "\x01no-channel";  // until the channel marker arrives
          state_ = State::AfterActionStart;
        } else {
          // A channel marker without <|action_start|> (some quantized models drop it): open the block anyway.
          current_.channel = marker == Marker::Plugin ? Channel::Plugin : Channel::Interpreter;
          state_ = State::InAction;
        }
        ParserEvent e{ParserEvent::Kind::ActionStart, "", current_};
        events.push_back(e);
      } else if (end_of_turn) {
        reply_.ended_by_im_end = true;
        state_ = State::Done;
      }
      break;  // a stray <|action_end|> or <s> is dropped
    case State::AfterActionStart:
      if (marker == Marker::Plugin || marker == Marker::Interpreter) {
        current_.name.clear();
        current_.raw.clear();  // whitespace between <|action_start|> and the channel marker
        current_.channel = marker == Marker::Plugin ? Channel::Plugin : Channel::Interpreter;
        state_ = State::InAction;
        break;
      }
      [[fallthrough]];
    case State::InAction:
      if (marker == Marker::ActionEnd) {
        close_action(true, events);
        state_ = State::Text;
      } else if (end_of_turn) {
        close_action(marker != Marker::ImStart, events);
        reply_.ended_by_im_end = true;
        state_ = State::Done;
      } else if (marker == Marker::ActionStart) {
        close_action(false, events);
        current_ = Action{};
        current_.name = "\x01no-channel";
        state_ = State::AfterActionStart;
        events.push_back({ParserEvent::Kind::ActionStart, "", current_});
      }
      break;
    case State::Done:
      break;
  }
}

void ActionParser::scan_pending(bool final, std::vector<ParserEvent>& events) {
  // Consumed bytes are erased once at the end, so a large chunk with many markers stays linear.
  size_t done = 0;
  while (done < pending_.size()) {
    const Found f = find_first_marker(pending_, done);
    if (f.pos == std::string::npos) {
      const std::string_view rest = std::string_view(pending_).substr(done);
      const size_t keep = final ? 0 : partial_marker_suffix(rest);
      emit_text(rest.substr(0, rest.size() - keep), events);
      done = pending_.size() - keep;
      break;
    }
    emit_text(std::string_view(pending_).substr(done, f.pos - done), events);
    done = f.pos + f.len;
    on_marker(f.marker, events);
  }
  pending_.erase(0, done);
}

void ActionParser::on_text(std::string_view text, std::vector<ParserEvent>& events) {
  pending_ += text;
  scan_pending(false, events);
}

std::vector<ParserEvent> ActionParser::feed(const TokenChunk& chunk) {
  std::vector<ParserEvent> events;
  if (state_ == State::Done) return events;
  if (!chunk.ids.empty() && !marker_ids_.empty()) {
    size_t specials = 0;
    for (auto id : chunk.ids) specials += marker_ids_.count(id);
    if (specials == 0 || (specials == 1 && chunk.ids.size() == 1)) {
      // Token ids decide: whatever is held back is plain text, and so is this chunk unless its id is a
      // marker.
      std::string held = std::move(pending_);
      pending_.clear();
      emit_text(held, events);
      if (specials == 1) {
        on_marker(marker_ids_.at(chunk.ids.front()), events);
      } else {
        emit_text(chunk.text, events);
      }
      return events;
    }
  }
  on_text(chunk.text, events);
  return events;
}

std::vector<ParserEvent> ActionParser::finish() {
  std::vector<ParserEvent> events;
  scan_pending(true, events);
  if (state_ == State::AfterActionStart || state_ == State::InAction) close_action(false, events);
  state_ = State::Done;
  return events;
}

ParsedReply ActionParser::parse(std::string_view text) {
  ActionParser p;
  p.feed_text(text);
  p.finish();
  return p.reply();
}

}  // namespace agentrt::agent
