// Reading OpenAI-style request bodies (/v1/completions and /v1/chat/completions) into what the backends take,
// with every malformed or unsupported field answered by an ApiError naming the field (the `param`).
#pragma once

#include <string>
#include <vector>

#include "agent/llm_backend.h"
#include "agent/renderer.h"
#include "agent/schema.h"
#include "apps/server/response_format.h"

namespace agentrt::server {

// Parses a request body; malformed JSON or a body that is not an object is a 400.
Json parse_body(const std::string& body);

// The fields both endpoints share.
struct SamplingRequest {
  std::string model;
  agent::GenerationParams params;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk carrying `usage`
};

// Reads model (must equal `served_model`, else 404 model_not_found), stream, stream_options, max_tokens /
// max_completion_tokens (default `default_max_tokens`), temperature, top_p, top_k, min_p, repetition_penalty,
// presence_penalty, frequency_penalty (0 only), seed, stop, n (1 only).
SamplingRequest parse_sampling(const Json& body, const std::string& served_model, int default_max_tokens);

// /v1/completions: the prompt text, passed to the model as is.
struct CompletionRequest {
  SamplingRequest sampling;
  std::string prompt;
};
CompletionRequest parse_completion_request(const Json& body, const std::string& served_model);

enum class ToolChoice { Auto, None, Required, Named };

struct ChatRequest {
  SamplingRequest sampling;
  std::vector<agent::Message> messages;
  Json tools = Json::array();  // function objects {"name","description","parameters"}
  ToolChoice tool_choice = ToolChoice::Auto;
  std::string forced_tool;          // ToolChoice::Named: the function's name
  bool strict_tools = false;        // some tool says "strict": true: its calls must fit its schema
  bool parallel_tool_calls = true;  // false: at most one call in the reply
  ResponseFormat response_format;   // text, or the JSON the reply must be
};
ChatRequest parse_chat_request(const Json& body, const std::string& served_model);

// What the model reads for a chat request: the rendered conversation and, for tool_choice required or a named
// function, the start of the call written into the assistant turn for the model to continue (`prefill`), so
// the answer is a call of the right tool whatever the model would have preferred.
struct ChatPrompt {
  std::string prompt;   // ends with the prefill
  std::string prefill;  // "" | "<|action_start|><|plugin|>\n" | that + "{\"name\": \"f\", \"parameters\": "
};
ChatPrompt build_chat_prompt(const ChatRequest& request, agent::Flavor flavor);

// The stop strings every chat turn ends at (the end of the turn, in both spellings), plus the request's own.
// `constrain_tools`: ask the backend to make calls valid by construction (the declared tools; only the named
// one for a named tool_choice); backends that do not sample themselves ignore it. `support`: what the
// backend can hold a reply to; response_format and strict tools it cannot honour are a 400 naming the field.
// parallel_tool_calls false ends the reply with its first call.
agent::GenerationParams chat_generation_params(
    const ChatRequest& request, const agent::MarkerIds& marker_ids, bool constrain_tools,
    agent::SchemaSupport support = agent::SchemaSupport::JsonOrCall);

}  // namespace agentrt::server
