// What differs between the OpenAI-compatible servers a RemoteBackend talks to (vLLM, llama-server, lmdeploy,
// another agentrt): which one it is (from /v1/models), the request fields each needs so the protocol's
// special tokens come back as text, how each takes a JSON-schema constraint, and what to tell the user when
// the markers are missing from a reply that clearly meant a tool call.
#pragma once

#include <string>
#include <string_view>

#include "agent/llm_backend.h"
#include "agent/schema.h"

namespace agentrt::agent {

enum class RemoteDialect { Unknown, VLLM, LlamaServer, LMDeploy, AgentRT };

std::string_view to_string(RemoteDialect dialect);

// The dialect from a GET /v1/models reply: its first model's "owned_by" ("vllm", "llamacpp", "lmdeploy",
// "agentrt"); Unknown for anything else.
RemoteDialect dialect_from_models(const Json& models_reply);

// Adds what `dialect` needs to return the protocol's markers as text: skip_special_tokens false (and no
// spaces around them) for vLLM and lmdeploy; preserved_tokens (the marker names) for llama-server; all of
// them when the dialect is unknown (each server ignores the others' fields).
void ask_for_special_tokens(Json& body, RemoteDialect dialect);

// How `dialect` holds a completion to a JSON schema (GenerationParams::response_schema) in /v1/completions.
SchemaSupport schema_support(RemoteDialect dialect);
// Adds the schema in the dialect's field: vLLM "response_format" (json_schema), llama-server "json_schema".
void add_response_schema(Json& body, RemoteDialect dialect, const Json& schema);

// A reply that holds none of the protocol's markers but clearly meant a call: a fenced code block, or a
// {"name": ..., "parameters"/"arguments": ...} object, as a model writes them after <|action_start|>.
bool looks_like_a_call_without_markers(std::string_view text);
// Whether the text holds any protocol marker (either spelling).
bool has_protocol_marker(std::string_view text);
// What to do about markers missing from `dialect`'s replies, in words.
std::string missing_markers_fix(RemoteDialect dialect);

}  // namespace agentrt::agent
