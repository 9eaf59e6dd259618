#include "agent/schema_validator.h"

#include <cctype>
#include <cmath>

#include "agent/py_json.h"

namespace agentrt::agent {
namespace {

std::string join_path(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

std::string describe(const std::string& path) { return path.empty() ? "the arguments" : "'" + path + "'"; }

std::string kind_of(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

// JSON-schema type names, plus the upper-case names of Lagent-style descriptions (STRING, NUMBER, ...), plus the
// "int"/"float"/"bool"/"str"/"dict"/"list" spellings some tool authors use.
bool matches_type(const Json& v, std::string type) {
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == "string" || type == "str") return v.is_string();
  if (type == "integer" || type == "int") {
    if (v.is_number_integer()) return true;
    if (v.is_number_float()) {
      double d = v.get<double>();
      return std::isfinite(d) && std::floor(d) == d;
    }
    return false;
  }
  if (type == "number" || type == "float") return v.is_number();
  if (type == "boolean" || type == "bool") return v.is_boolean();
  if (type == "object" || type == "dict") return v.is_object();
  if (type == "array" || type == "list") return v.is_array();
  if (type == "null") return v.is_null();
  return true;  // an unknown type name constrains nothing
}

// Undeclared properties: the tool's own parameter object is closed unless it says otherwise (Lagent's "unknown
// arguments"); nested objects follow JSON Schema, open unless additionalProperties is false.
void check(const Json& schema, const Json& value, const std::string& path, std::vector<SchemaViolation>& out,
           bool top_level) {
  if (!schema.is_object()) return;

  if (schema.contains("type")) {
    const Json& t = schema["type"];
    bool ok = false;
    std::string expected;
    if (t.is_string()) {
      ok = matches_type(value, t.get<std::string>());
      expected = t.get<std::string>();
    } else if (t.is_array()) {
      for (const auto& one : t) {
        if (!one.is_string()) continue;
        expected += (expected.empty() ? "" : " or ") + one.get<std::string>();
        ok = ok || matches_type(value, one.get<std::string>());
      }
    } else {
      ok = true;
    }
    if (!ok) {
      out.push_back({"type", path,
                     describe(path) + " must be " + expected + ", got " + kind_of(value) + " " + py_dumps(value)});
      return;
    }
  }

  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& allowed : schema["enum"]) found = found || allowed == value;
    if (!found) {
      out.push_back({"enum", path,
                     describe(path) + " must be one of " + py_dumps(schema["enum"]) + ", got " + py_dumps(value)});
    }
  }

  if (value.is_number()) {
    double d = value.get<double>();
    if (schema.contains("minimum") && schema["minimum"].is_number() && d < schema["minimum"].get<double>()) {
      out.push_back({"range", path, describe(path) + " must be >= " + py_dumps(schema["minimum"])});
    }
    if (schema.contains("maximum") && schema["maximum"].is_number() && d > schema["maximum"].get<double>()) {
      out.push_back({"range", path, describe(path) + " must be <= " + py_dumps(schema["maximum"])});
    }
  }
  if (value.is_string()) {
    auto len = value.get_ref<const std::string&>().size();
    if (schema.contains("minLength") && schema["minLength"].is_number_integer() &&
        len < schema["minLength"].get<size_t>()) {
      out.push_back({"length", path, describe(path) + " must be at least " + py_dumps(schema["minLength"]) +
                                         " characters long"});
    }
    if (schema.contains("maxLength") && schema["maxLength"].is_number_integer() &&
        len > schema["maxLength"].get<size_t>()) {
      out.push_back({"length", path, describe(path) + " must be at most " + py_dumps(schema["maxLength"]) +
                                         " characters long"});
    }
  }

  if (value.is_array() && schema.contains("items") && schema["items"].is_object()) {
    for (size_t i = 0; i < value.size(); ++i) {
      check(schema["items"], value[i], path + "[" + std::to_string(i) + "]", out, false);
    }
  }

  if (value.is_object()) {
    const Json empty = Json::object();
    const Json& props = schema.contains("properties") && schema["properties"].is_object() ? schema["properties"] : empty;
    if (schema.contains("required") && schema["required"].is_array()) {
      std::vector<std::string> missing;
      for (const auto& r : schema["required"]) {
        if (r.is_string() && !value.contains(r.get<std::string>())) missing.push_back(r.get<std::string>());
      }
      for (const auto& m : missing) out.push_back({"missing", join_path(path, m), "'" + join_path(path, m) + "'"});
    }
    bool closed = top_level;
    if (schema.contains("additionalProperties")) {
      const Json& ap = schema["additionalProperties"];
      closed = ap.is_boolean() && !ap.get<bool>();
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (props.contains(it.key())) {
        check(props[it.key()], it.value(), join_path(path, it.key()), out, false);
      } else if (closed) {
        out.push_back({"unknown", join_path(path, it.key()), "'" + join_path(path, it.key()) + "'"});
      } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
        check(schema["additionalProperties"], it.value(), join_path(path, it.key()), out, false);
      }
    }
  }
}

}  // namespace

std::vector<SchemaViolation> validate_against_schema(const Json& schema, const Json& value) {
  std::vector<SchemaViolation> out;
  check(schema, value, "", out, true);
  return out;
}

bool is_object_schema(const Json& schema, std::string* why) {
  auto fail = [&](const std::string& msg) {
    if (why != nullptr) *why = msg;
    return false;
  };
  if (!schema.is_object()) return fail("the parameter schema must be a JSON object");
  if (schema.value("type", "object") != "object") return fail("the parameter schema must have \"type\": \"object\"");
  if (schema.contains("properties") && !schema["properties"].is_object()) {
    return fail("\"properties\" must be an object");
  }
  if (schema.contains("required")) {
    if (!schema["required"].is_array()) return fail("\"required\" must be a list of names");
    for (const auto& r : schema["required"]) {
      if (!r.is_string()) return fail("\"required\" must be a list of names");
    }
  }
  return true;
}

}  // namespace agentrt::agent
