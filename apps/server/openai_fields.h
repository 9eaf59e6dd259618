// No silent fields: every field an OpenAI client may send to /v1/chat/completions or /v1/completions is
// either honoured, forwarded to the engine, or refused with a 400 naming it. This is the one list of them
// (docs/server.md has the same table for people); a field not on it is refused as unknown.
#pragma once

#include "agent/schema.h"

namespace agentrt::server {

enum class OpenAIEndpoint { Chat, Completions };

// Throws the 400 (param = the field) for a field this server does not honour: unknown fields, and fields
// whose value asks for something it cannot do (n > 1 and logprobs are checked where they are read; here:
// logit_bias, audio, prediction, store: true, metadata, functions, ...). Fields honoured elsewhere are
// only type-checked here when nothing else reads them (user, service_tier, ...).
void check_openai_fields(const Json& body, OpenAIEndpoint endpoint);

}  // namespace agentrt::server
