// The interface every language-model backend implements (local engine, remote OpenAI-compatible server,
// scripted replay), and the generation parameters they share.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/protocol.h"
#include "agent/schema.h"

namespace agentrt::agent {

struct GenerationParams {
  int max_tokens = 1024;
  float temperature = 0.0f;  // 0 = greedy
  float top_p = 1.0f;
  int top_k = 0;  // 0 = off
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0;
  std::vector<std::string> stop;  // stop strings (not included in the output)
  std::vector<int32_t> stop_ids;  // stop token ids, where the backend has ids
  // Tool descriptions [{"name","parameters"}]: when set, a backend that samples itself (the local engine)
  // makes every <|plugin|> call parse and fit its tool's schema by construction; other backends ignore it.
  Json constrain_tools = nullptr;
  // A JSON schema the reply must be one value of ({"type": "object"} for any object), e.g. an OpenAI
  // response_format; only backends whose response_schema_support() says so may be given one.
  Json response_schema = nullptr;
  // With response_schema: the reply may instead open with a tool call (tools were declared).
  bool response_allows_calls = false;
};

// What a backend can do with GenerationParams::response_schema.
enum class SchemaSupport {
  None,        // nothing: callers must refuse the request
  Json,        // the reply is held to the schema (a tool call cannot come first)
  JsonOrCall,  // also with response_allows_calls: a tool call first, or else the schema's JSON
};

// A piece of streamed output. `ids` holds the token ids that produced `text` when the backend knows them
// (local engine: exactly one id per chunk); remote servers give text only.
struct TokenChunk {
  std::string text;
  std::vector<int32_t> ids;
};

struct Completion {
  std::string text;
  std::vector<int32_t> ids;
  std::string finish_reason;  // "stop" | "length" | "cancelled"
  std::string stop;           // the stop string or token text that ended it, when finish_reason is "stop"
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Called for every streamed chunk; return false to stop generation (finish_reason "cancelled").
using ChunkCallback = std::function<bool(const TokenChunk&)>;

class LLMBackend {
 public:
  virtual ~LLMBackend() = default;
  virtual std::string name() const = 0;
  // Generates a continuation of `prompt` (rendered protocol text without <s>; backends that tokenize add
  // BOS). Errors (unreachable server, bad reply) are thrown as std::runtime_error with a clear message.
  virtual Completion generate(const std::string& prompt, const GenerationParams& params,
                              const ChunkCallback& on_chunk) = 0;
  // The ids of the protocol's special tokens in this backend's vocabulary; empty when the backend gives text
  // only.
  virtual MarkerIds marker_ids() const { return {}; }
  // Whether generate() can hold a reply to params.response_schema (it throws std::invalid_argument when given
  // one it cannot). May ask a remote server once.
  virtual SchemaSupport response_schema_support() { return SchemaSupport::None; }
};

}  // namespace agentrt::agent
