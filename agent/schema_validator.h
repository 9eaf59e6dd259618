// Validation of call arguments against a tool's JSON schema: the subset tools declare (type incl. unions,
// properties, required, additionalProperties, enum, items, minimum/maximum, minLength/maxLength, nesting).
#pragma once

#include <string>
#include <vector>

#include "agent/schema.h"

namespace agentrt::agent {

struct SchemaViolation {
  std::string kind;     // "missing" | "unknown" | "type" | "enum" | "range" | "length" | "schema"
  std::string path;     // JSON pointer-ish path of the offending value, e.g. "parameters.unit"
  std::string message;  // a sentence the model can act on
};

// Every violation of `value` against `schema` (empty when valid). At the top level (a tool's arguments),
// properties not declared are "unknown" unless the schema sets additionalProperties to true or a schema; nested
// objects follow JSON Schema and are open unless additionalProperties is false.
std::vector<SchemaViolation> validate_against_schema(const Json& schema, const Json& value);

// True when `schema` is usable as a tool's parameter schema (an object schema); otherwise `why` says what is wrong.
bool is_object_schema(const Json& schema, std::string* why);

}  // namespace agentrt::agent
