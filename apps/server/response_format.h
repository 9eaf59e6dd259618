// OpenAI's response_format: {"type": "text"}, {"type": "json_object"} (any JSON object) or
// {"type": "json_schema", "json_schema": {"name", "description"?, "schema", "strict"?}}. A schema is
// accepted only when every keyword in it is one the sampler can hold a reply to (types, enum, const,
// properties, required, additionalProperties, items, and words that only describe); anything else is a 400
// naming where it is, never a keyword silently ignored. With "strict": true, OpenAI's own rules for strict
// schemas apply too (a root object; every object closed and listing every property as required).
#pragma once

#include <string>

#include "agent/schema.h"

namespace agentrt::server {

struct ResponseFormat {
  std::string type = "text";  // "text" | "json_object" | "json_schema"
  Json schema = nullptr;      // what the reply must be; null for text
  std::string name;           // json_schema.name
  bool strict = false;
};

// Reads body["response_format"] (absent or null: text); throws a 400 naming the field it rejects.
ResponseFormat parse_response_format(const Json& body);

}  // namespace agentrt::server
