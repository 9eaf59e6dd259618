#include "apps/server/openai_response.h"

#include <chrono>
#include <random>

#include "agent/renderer.h"

namespace agentrt::server {
namespace {

constexpr const char* kProtocolEnd = "<|action_end|>";

}  // namespace

std::string new_object_id(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kDigits[rng() % 16];
  return id;
}

long long unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json usage_json(const agent::Completion& c) {
  return Json{{"prompt_tokens", c.prompt_tokens},
              {"completion_tokens", c.completion_tokens},
              {"total_tokens", c.prompt_tokens + c.completion_tokens}};
}

ChatReply::ChatReply(const ChatRequest& request, const std::string& prefill,
                     const agent::MarkerIds& marker_ids)
    : request_(request), parser_(marker_ids), id_(new_object_id("chatcmpl-")), created_(unix_seconds()) {
  // The prefilled start of a forced call is part of the reply the parser must see; it yields no text.
  if (!prefill.empty()) take(parser_.feed_text(prefill));
}

Json ChatReply::chunk(Json delta, Json finish_reason) const {
  Json choice{
      {"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  return Json{{"id", id_},
              {"object", "chat.completion.chunk"},
              {"created", created_},
              {"model", request_.sampling.model},
              {"choices", Json::array({choice})}};
}

Json ChatReply::role_chunk() const {
  return chunk(Json{{"role", "assistant"}, {"content", ""}});
}

bool ChatReply::calls_allowed() const {
  return request_.tool_choice != ToolChoice::None && (request_.parallel_tool_calls || tool_calls_.empty());
}

Json ChatReply::call_delta(int index, Json function, const std::string& id) const {
  Json call{{"index", index}};
  if (!id.empty()) {
    call["id"] = id;
    call["type"] = "function";
  }
  call["function"] = std::move(function);
  return chunk(Json{{"tool_calls", Json::array({call})}});
}

std::vector<Json> ChatReply::take(const std::vector<agent::ParserEvent>& events) {
  std::vector<Json> deltas;
  for (const auto& e : events) {
    if (e.kind == agent::ParserEvent::Kind::Text) {
      if (e.text.empty()) continue;
      content_ += e.text;
      deltas.push_back(chunk(Json{{"content", e.text}}));
      continue;
    }
    if (e.kind == agent::ParserEvent::Kind::ActionStart) {
      open_.reset();
      if (calls_allowed()) open_.emplace();
      continue;
    }
    const agent::Action& a = e.action;
    std::optional<StreamedCall> streamed = std::move(open_);
    open_.reset();
    if (streamed && a.channel == agent::Channel::Plugin) streamed->stream.update(a.raw);
    // Only a stream announces calls early; a whole reply is decided on the whole call.
    const bool announced = streamed && streamed->index >= 0 && request_.sampling.stream;
    // A call the model should not have made (tool_choice none, or a second one with parallel_tool_calls
    // false), or one that cannot be parsed, stays visible to the client as the text the model wrote rather
    // than being dropped; unless it was already announced as a call while it streamed.
    if (!announced && (!calls_allowed() || !a.valid)) {
      const std::string text = agent::render_action(a) + (a.closed ? kProtocolEnd : "");
      content_ += text;
      deltas.push_back(chunk(Json{{"content", text}}));
      continue;
    }
    std::string arguments;
    if (announced) {
      // What was sent stays sent: the rest of the final string when it extends it (the usual case), else the
      // call keeps the text as streamed (a call that turned out not to parse, cut off or malformed).
      const std::string& sent = streamed->stream.arguments();
      const std::string sent_part = sent.substr(0, streamed->stream.released());
      arguments = a.valid ? streamed->stream.final_arguments(a.tool_arguments()) : sent;
      if (arguments.compare(0, sent_part.size(), sent_part) != 0) arguments = sent;
      if (arguments.size() > sent_part.size()) {
        deltas.push_back(
            call_delta(streamed->index, Json{{"arguments", arguments.substr(sent_part.size())}}));
      }
      tool_calls_.push_back(
          Json{{"id", streamed->id},
               {"type", "function"},
               {"function", Json{{"name", streamed->stream.name()}, {"arguments", arguments}}}});
      continue;
    }
    const int index = static_cast<int>(tool_calls_.size());
    arguments = streamed && a.channel == agent::Channel::Plugin
                    ? streamed->stream.final_arguments(a.tool_arguments())
                    : a.tool_arguments().dump(-1, ' ', false, Json::error_handler_t::replace);
    Json call{{"id", new_object_id("call_")},
              {"type", "function"},
              {"function", Json{{"name", a.name}, {"arguments", arguments}}}};
    tool_calls_.push_back(call);
    // Like other OpenAI-compatible servers: the call's id and name first, then its arguments.
    deltas.push_back(call_delta(index, Json{{"name", a.name}, {"arguments", ""}}, call["id"]));
    deltas.push_back(call_delta(index, Json{{"arguments", arguments}}));
  }
  return deltas;
}

void ChatReply::stream_open_call(std::vector<Json>& deltas) {
  const agent::Action* call = parser_.open_call();
  if (!open_ || call == nullptr || call->channel != agent::Channel::Plugin) return;
  open_->stream.update(call->raw);
  if (open_->index < 0) {
    if (!open_->stream.has_name()) return;
    open_->index = static_cast<int>(tool_calls_.size());
    open_->id = new_object_id("call_");
    deltas.push_back(
        call_delta(open_->index, Json{{"name", open_->stream.name()}, {"arguments", ""}}, open_->id));
  }
  const std::string more = open_->stream.take_released();
  if (!more.empty()) deltas.push_back(call_delta(open_->index, Json{{"arguments", more}}));
}

std::vector<Json> ChatReply::feed(const agent::TokenChunk& c) {
  std::vector<Json> deltas = take(parser_.feed(c));
  stream_open_call(deltas);
  return deltas;
}

void ChatReply::finish_parse(const agent::Completion& completion, std::vector<Json>& deltas) {
  for (auto& d : take(parser_.finish())) deltas.push_back(std::move(d));
  if (!tool_calls_.empty()) {
    finish_reason_ = "tool_calls";
  } else {
    finish_reason_ = completion.finish_reason == "length" ? "length" : "stop";
  }
}

std::vector<Json> ChatReply::finish_stream(const agent::Completion& completion) {
  std::vector<Json> out;
  finish_parse(completion, out);
  out.push_back(chunk(Json::object(), finish_reason_));
  if (request_.sampling.include_usage) {
    Json last = chunk(Json::object());
    last["choices"] = Json::array();
    last["usage"] = usage_json(completion);
    out.push_back(std::move(last));
  }
  return out;
}

Json ChatReply::finish_response(const agent::Completion& completion) {
  std::vector<Json> unused;
  finish_parse(completion, unused);
  Json message{{"role", "assistant"}};
  message["content"] = content_.empty() && !tool_calls_.empty() ? Json(nullptr) : Json(content_);
  if (!tool_calls_.empty()) message["tool_calls"] = tool_calls_;
  Json choice{{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", finish_reason_}};
  return Json{{"id", id_},
              {"object", "chat.completion"},
              {"created", created_},
              {"model", request_.sampling.model},
              {"choices", Json::array({choice})},
              {"usage", usage_json(completion)}};
}

Json completion_response(const std::string& id, const std::string& model, long long created,
                         const agent::Completion& completion) {
  const std::string reason = completion.finish_reason == "length" ? "length" : "stop";
  Json choice{{"index", 0}, {"text", completion.text}, {"logprobs", nullptr}, {"finish_reason", reason}};
  return Json{{"id", id},       {"object", "text_completion"},      {"created", created},
              {"model", model}, {"choices", Json::array({choice})}, {"usage", usage_json(completion)}};
}

Json completion_chunk(const std::string& id, const std::string& model, long long created,
                      const std::string& text, Json finish_reason) {
  Json choice{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  return Json{{"id", id},
              {"object", "text_completion"},
              {"created", created},
              {"model", model},
              {"choices", Json::array({choice})}};
}

}  // namespace agentrt::server
