// Building OpenAI-style answers from a generation: whole responses and the chunks of a stream
// (chat.completion.chunk with content and tool-call deltas; text_completion chunks), plus `usage`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/action_parser.h"
#include "agent/llm_backend.h"
#include "agent/schema.h"
#include "apps/server/openai_request.h"
#include "apps/server/tool_call_stream.h"

namespace agentrt::server {

// A fresh id with a prefix: "chatcmpl-…", "cmpl-…", "call_…".
std::string new_object_id(const std::string& prefix);
long long unix_seconds();

Json usage_json(const agent::Completion& completion);

// A plugin call of a streamed reply while the model writes it.
struct StreamedCall {
  CallArgumentsStream stream;
  int index = -1;  // >= 0 once announced
  std::string id;
};

// Follows one chat generation as it streams: separates text from tool calls with the protocol's parser and
// produces the stream's chunks, then the whole response or the stream's last chunks. A plugin call is
// announced (index, id, name) as soon as its name is written and its arguments follow as the model writes
// them; the deltas add up to the call's `arguments`, the same string a non-streamed reply gives.
class ChatReply {
 public:
  ChatReply(const ChatRequest& request, const std::string& prefill, const agent::MarkerIds& marker_ids);

  // The first chunk of a stream: the assistant role with empty content.
  Json role_chunk() const;
  // Chunks the streamed piece completes (content deltas, tool-call deltas).
  std::vector<Json> feed(const agent::TokenChunk& chunk);
  // Ends the generation: remaining deltas, the chunk holding finish_reason, and (include_usage) a usage
  // chunk.
  std::vector<Json> finish_stream(const agent::Completion& completion);
  // Ends the generation for a non-streaming request: the whole chat.completion object.
  Json finish_response(const agent::Completion& completion);

  const std::string& finish_reason() const { return finish_reason_; }
  const std::string& id() const { return id_; }

 private:
  Json chunk(Json delta, Json finish_reason = nullptr) const;
  // Turns parser events into deltas and records content and tool calls.
  std::vector<Json> take(const std::vector<agent::ParserEvent>& events);
  // Deltas of the call being written: its announcement once the name is known, then argument bytes.
  void stream_open_call(std::vector<Json>& deltas);
  // Whether a call starting now may be a tool call (not text): tools allowed, and the first unless
  // parallel_tool_calls allows more.
  bool calls_allowed() const;
  Json call_delta(int index, Json function, const std::string& id = "") const;

  std::optional<StreamedCall> open_;  // the plugin call being written, while it streams
  void finish_parse(const agent::Completion& completion, std::vector<Json>& deltas);

  const ChatRequest& request_;
  agent::ActionParser parser_;
  std::string id_;
  long long created_;
  std::string content_;
  Json tool_calls_ = Json::array();
  std::string finish_reason_;
};

// /v1/completions: the whole text_completion object, and one stream chunk.
Json completion_response(const std::string& id, const std::string& model, long long created,
                         const agent::Completion& completion);
Json completion_chunk(const std::string& id, const std::string& model, long long created,
                      const std::string& text, Json finish_reason = nullptr);

}  // namespace agentrt::server
