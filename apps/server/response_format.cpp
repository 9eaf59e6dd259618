#include "apps/server/response_format.h"

#include <algorithm>
#include <set>

#include "apps/server/api_error.h"

namespace agentrt::server {
namespace {

constexpr const char* kParam = "response_format";

ApiError invalid(const std::string& message) {
  return bad_request("invalid 'response_format': " + message, kParam, "invalid_value");
}

// Keywords the JSON-schema matcher (agent/backends/json_schema_matcher.h) enforces, and those that only
// describe. Anything else would be a constraint the reply does not honour.
const std::set<std::string>& enforced_keywords() {
  static const std::set<std::string> k = {
      "type", "enum", "const", "properties", "required", "additionalProperties", "items"};
  return k;
}
const std::set<std::string>& descriptive_keywords() {
  static const std::set<std::string> k = {"title",    "description", "$schema", "$id",
                                          "$comment", "default",     "examples"};
  return k;
}

// Local references ("#/$defs/X", "#/definitions/X", as zod and pydantic write shared sub-objects) replaced by
// what they name, so the matcher sees one tree; a recursive one cannot be unrolled and is refused.
Json inline_refs(const Json& schema, const Json& root, int depth) {
  if (depth > 12) throw invalid("a '$ref' is recursive or nested too deeply; it cannot be unrolled");
  if (schema.is_array()) {
    Json out = Json::array();
    for (const auto& item : schema) out.push_back(inline_refs(item, root, depth));
    return out;
  }
  if (!schema.is_object()) return schema;
  if (schema.contains("$ref")) {
    const Json& ref = schema["$ref"];
    std::string path = ref.is_string() ? ref.get<std::string>() : "";
    if (path.rfind("#/", 0) != 0) throw invalid("only local '$ref's (\"#/$defs/...\") can be resolved");
    const Json* target = &root;
    for (size_t at = 2; at <= path.size();) {
      const size_t slash = std::min(path.find('/', at), path.size());
      const std::string part = path.substr(at, slash - at);
      if (!target->is_object() || !target->contains(part)) throw invalid("'$ref' " + path + " names nothing");
      target = &(*target)[part];
      at = slash + 1;
    }
    Json merged = inline_refs(*target, root, depth + 1);
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      if (it.key() != "$ref") merged[it.key()] = inline_refs(it.value(), root, depth + 1);
    }
    return merged;
  }
  Json out = Json::object();
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    if (depth == 0 && (it.key() == "$defs" || it.key() == "definitions")) continue;  // inlined where used
    out[it.key()] = inline_refs(it.value(), root, it.key() == "properties" ? depth : depth + 1);
  }
  return out;
}

void check_schema(const Json& schema, const std::string& where, bool strict, int depth) {
  if (depth > 12) throw invalid("the schema is nested too deeply (at " + where + ")");
  if (!schema.is_object()) throw invalid("a schema must be an object (at " + where + ")");
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    if (!enforced_keywords().count(key) && !descriptive_keywords().count(key)) {
      throw bad_request(
          "'response_format' uses the JSON-schema keyword '" + key + "' (at " + where +
              "), which this server cannot enforce on the reply; it enforces type, enum, const, "
              "properties, required, additionalProperties and items",
          kParam, "unsupported_parameter");
    }
  }
  const Json type = schema.value("type", Json());
  auto has_type = [&](const char* t) {
    return type == t || (type.is_array() && std::find(type.begin(), type.end(), Json(t)) != type.end());
  };
  if (schema.contains("properties")) {
    if (!schema["properties"].is_object()) throw invalid("'properties' must be an object (at " + where + ")");
    for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it) {
      check_schema(it.value(), where + ".properties." + it.key(), strict, depth + 1);
    }
  }
  if (schema.contains("items")) check_schema(schema["items"], where + ".items", strict, depth + 1);
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
    check_schema(schema["additionalProperties"], where + ".additionalProperties", strict, depth + 1);
  }
  if (strict && has_type("object")) {
    // OpenAI's rules for strict schemas: closed objects whose every property is required.
    if (schema.value("additionalProperties", Json(true)) != false) {
      throw invalid("with \"strict\": true every object must set \"additionalProperties\": false (at " +
                    where + ")");
    }
    const Json props = schema.value("properties", Json::object());
    const Json required = schema.value("required", Json::array());
    for (auto it = props.begin(); it != props.end(); ++it) {
      if (std::find(required.begin(), required.end(), Json(it.key())) == required.end()) {
        throw invalid("with \"strict\": true every property must be required ('" + it.key() + "' at " +
                      where + " is not)");
      }
    }
  }
}

}  // namespace

ResponseFormat parse_response_format(const Json& body) {
  ResponseFormat f;
  if (!body.contains(kParam) || body[kParam].is_null()) return f;
  const Json& rf = body[kParam];
  if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string()) {
    throw bad_request(
        "'response_format' must be {\"type\": \"text\" | \"json_object\" | \"json_schema\", ...}", kParam,
        "invalid_type");
  }
  f.type = rf["type"].get<std::string>();
  for (auto it = rf.begin(); it != rf.end(); ++it) {
    if (it.key() != "type" && !(f.type == "json_schema" && it.key() == "json_schema")) {
      throw bad_request("unknown parameter 'response_format." + it.key() + "'", kParam,
                        "unsupported_parameter");
    }
  }
  if (f.type == "text") return f;
  if (f.type == "json_object") {
    f.schema = Json{{"type", "object"}};
    return f;
  }
  if (f.type != "json_schema") {
    throw bad_request(
        "'response_format.type' must be \"text\", \"json_object\" or \"json_schema\", not \"" + f.type + "\"",
        kParam, "invalid_value");
  }
  if (!rf.contains("json_schema") || !rf["json_schema"].is_object()) {
    throw bad_request("'response_format.json_schema' is required: {\"name\", \"schema\", \"strict\"?}",
                      kParam, "missing_required_parameter");
  }
  const Json& js = rf["json_schema"];
  for (auto it = js.begin(); it != js.end(); ++it) {
    static const std::set<std::string> known = {"name", "description", "schema", "strict"};
    if (!known.count(it.key())) {
      throw bad_request("unknown parameter 'response_format.json_schema." + it.key() + "'", kParam,
                        "unsupported_parameter");
    }
  }
  if (!js.contains("name") || !js["name"].is_string() || js["name"].get<std::string>().empty() ||
      js["name"].get<std::string>().size() > 64 ||
      js["name"].get<std::string>().find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos) {
    throw invalid("'json_schema.name' must be 1 to 64 letters, digits, '_' or '-'");
  }
  f.name = js["name"].get<std::string>();
  if (js.contains("strict") && !js["strict"].is_null()) {
    if (!js["strict"].is_boolean()) throw invalid("'json_schema.strict' must be a boolean");
    f.strict = js["strict"].get<bool>();
  }
  const Json given = js.value("schema", Json{{"type", "object"}});
  if (!given.is_object()) throw invalid("'json_schema.schema' must be an object");
  f.schema = inline_refs(given, given, 0);
  check_schema(f.schema, "schema", f.strict, 0);
  // The reply is a whole object: a bare number or string could not be told complete while it streams.
  if (f.schema.value("type", Json()) != "object") {
    throw invalid("the schema's root must be {\"type\": \"object\", ...}");
  }
  return f;
}

}  // namespace agentrt::server
