// Conversation input in the shapes users send: OpenAI chat messages (roles system/user/assistant/tool,
// assistant `tool_calls`, `tool_call_id`, content as a string, null or a list of text parts) and our own
// role/name/content messages, including raw assistant content that already holds action markers.
#pragma once

#include <vector>

#include "agent/schema.h"

namespace agentrt::agent {

// Parses a JSON array of messages; throws std::invalid_argument naming the index and field at fault.
std::vector<Message> messages_from_json(const Json& messages);

}  // namespace agentrt::agent
