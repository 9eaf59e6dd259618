#include <gtest/gtest.h>

#include "agent/backends/json_schema_matcher.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

bool accepts(const CompiledSchema& s, std::string_view text) {
  JsonSchemaMatcher m(s);
  return m.feed(text) && m.complete();
}

// Accepted as a prefix (every byte fed), whether or not complete.
bool prefix_ok(const CompiledSchema& s, std::string_view text) {
  JsonSchemaMatcher m(s);
  return m.feed(text);
}

const Json kTools = Json::parse(R"([
  {"name": "calculator", "parameters": {"type": "object", "properties": {"expression": {"type": "string"}},
                                        "required": ["expression"]}},
  {"name": "search", "parameters": {"type": "object", "properties": {
      "query": {"type": "string"}, "top_k": {"type": "integer"}, "source": {"type": "string", "enum": ["local", "web"]}},
      "required": ["query"]}},
  {"name": "http", "parameters": {"type": "object", "properties": {
      "url": {"type": "string"}, "headers": {"type": "object"}, "body": {"type": ["string", "object"]},
      "ratio": {"type": "number"}, "flags": {"type": "array", "items": {"type": "boolean"}}, "opt": {"type": ["integer", "null"]}},
      "required": ["url"]}}
])");

}  // namespace

TEST(JsonSchemaMatcher, ToolCallsThatFitTheirSchemas) {
  auto s = CompiledSchema::tool_call(kTools);
  EXPECT_TRUE(accepts(*s, R"({"name": "calculator", "parameters": {"expression": "2+2"}})"));
  EXPECT_TRUE(
      accepts(*s, "\n{\"name\":\"calculator\",\"parameters\":{\"expression\":\"√2 \\\"q\\\" \\u00e9\"}}"));
  EXPECT_TRUE(
      accepts(*s, R"({"name": "search", "parameters": {"top_k": 5, "query": "x", "source": "web"}})"));
  EXPECT_TRUE(
      accepts(*s, R"({"name": "http", "parameters": {"url": "u", "headers": {"a": "b", "n": [1, {"x": null}]},
      "body": {"k": true}, "ratio": -1.5e-3, "flags": [true, false], "opt": null}})"));
  EXPECT_TRUE(accepts(*s, R"({"name": "http", "parameters": {"url": "u", "body": "text", "opt": 7}})"));
  EXPECT_TRUE(
      accepts(*s, "{\n  \"name\": \"search\",\n  \"parameters\": {\n    \"query\": \"中文\"\n  }\n}\n"));
}

TEST(JsonSchemaMatcher, RejectsWhatDoesNotFit) {
  auto s = CompiledSchema::tool_call(kTools);
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "calc)"
                             "x"));                 // unknown tool
  EXPECT_FALSE(prefix_ok(*s, R"({"parameters")"));  // name must come first
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "calculator", "parameters": {"expr")"
                             "x"));                                           // unknown argument
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "calculator", "parameters": {})"));  // missing required
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "calculator", "parameters": {"expression": 2)"));  // wrong type
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "search", "parameters": {"query": "x", "top_k": 1.5)"));  // integer
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "search", "parameters": {"query": "x", "source": "moon)"));  // enum
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "search", "parameters": {"query": "x", "query")"));  // duplicate key
  EXPECT_FALSE(prefix_ok(*s, R"({'name')"));                                                  // not JSON
  EXPECT_FALSE(
      prefix_ok(*s, "{\"name\": \"search\", \"parameters\": {\"query\": \"a\nb"));  // raw newline in string
  EXPECT_FALSE(prefix_ok(*s, "{\"name\": \"search\", \"parameters\": {\"query\": \"\xC3\x28"));  // bad UTF-8
  EXPECT_FALSE(
      prefix_ok(*s, "{\"name\": \"search\", \"parameters\": {\"query\": \"\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "http", "parameters": {"url": "u", "flags": [1]}})"));
  EXPECT_FALSE(
      prefix_ok(*s, R"({"name": "http", "parameters": {"url": "u", "ratio": 01}})"));  // leading zero
  EXPECT_FALSE(
      accepts(*s, R"({"name": "calculator", "parameters": {"expression": "1"}} x)"));  // trailing text
  EXPECT_TRUE(prefix_ok(*s, "{\n        "));                                           // pretty-printed
  EXPECT_FALSE(prefix_ok(*s, "{" + std::string(10, ' ')));                             // runaway whitespace
}

TEST(JsonSchemaMatcher, PrefixesAreNotComplete) {
  auto s = CompiledSchema::tool_call(kTools);
  JsonSchemaMatcher m(*s);
  ASSERT_TRUE(m.feed(R"({"name": "calculator", "parameters": {"expression": "1)"));
  EXPECT_FALSE(m.complete());
  EXPECT_TRUE(m.in_free_string());
  EXPECT_EQ(m.string_length(), 1);
  ASSERT_TRUE(m.feed(R"("}})"));
  EXPECT_TRUE(m.complete());
  EXPECT_FALSE(m.in_free_string());
}

TEST(JsonSchemaMatcher, EscapesAndUtf8InsideStringsAreNotFree) {
  auto s = CompiledSchema::value(Json::parse(R"({"type": "string"})"));
  JsonSchemaMatcher m(*s);
  ASSERT_TRUE(m.feed("\"a\\"));
  EXPECT_FALSE(m.in_free_string());
  ASSERT_TRUE(m.feed("n\xE4"));
  EXPECT_FALSE(m.in_free_string());
  ASSERT_TRUE(m.feed("\xB8\xAD"));  // 中
  EXPECT_TRUE(m.in_free_string());
}

TEST(JsonSchemaMatcher, NumbersEndWhenTheEnclosingValueContinues) {
  auto s = CompiledSchema::value(Json::parse(R"({"type": "array", "items": {"type": "number"}})"));
  EXPECT_TRUE(accepts(*s, "[1, -0.5, 2e10, 3E-2,0]"));
  EXPECT_FALSE(prefix_ok(*s, "[1.]"));
  EXPECT_TRUE(prefix_ok(*s, "[1.0"));
  EXPECT_FALSE(prefix_ok(*s, "[--1"));
  EXPECT_FALSE(prefix_ok(*s, "[1,]"));
  auto top = CompiledSchema::value(Json::parse(R"({"type": "integer"})"));
  EXPECT_TRUE(accepts(*top, "42"));
  EXPECT_FALSE(accepts(*top, "4.2"));
  EXPECT_FALSE(accepts(*top, "-"));
}

TEST(JsonSchemaMatcher, EnumsOfAnyType) {
  auto s = CompiledSchema::value(Json::parse(R"({"enum": ["a", "ab", 1, 12, true, null]})"));
  for (const char* ok : {"\"a\"", "\"ab\"", "1", "12", "true", "null"}) EXPECT_TRUE(accepts(*s, ok)) << ok;
  for (const char* bad : {"\"b\"", "2", "123", "false", "\"a"}) EXPECT_FALSE(accepts(*s, bad)) << bad;
}

TEST(JsonSchemaMatcher, OpenObjectsAndRequiredKeys) {
  auto s = CompiledSchema::value(Json::parse(R"({"type": "object", "properties": {"a": {"type": "integer"}},
      "required": ["a"], "additionalProperties": {"type": "string"}})"));
  EXPECT_TRUE(accepts(*s, R"({"a": 1, "b": "x"})"));
  EXPECT_TRUE(accepts(*s, R"({"zz": "x", "a": 1})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"b": 1)"));
  EXPECT_FALSE(prefix_ok(*s, R"({"b": "x"})"));
  auto any = CompiledSchema::value(Json::object());
  EXPECT_TRUE(accepts(*any, R"({"x": [1, "2", {"y": false}], "z": null})"));
  EXPECT_TRUE(accepts(*any, R"("just a string")"));
}

TEST(JsonSchemaMatcher, ToolArgumentsAreClosedNestedObjectsOpen) {
  auto s = CompiledSchema::tool_call(
      Json::parse(R"([{"name": "now", "parameters": {"type": "object", "properties": {}}},
      {"name": "f", "parameters": {"type": "object", "properties": {"o": {"type": "object"}}}}])"));
  EXPECT_TRUE(accepts(*s, R"({"name": "now", "parameters": {}})"));
  EXPECT_FALSE(prefix_ok(*s, R"({"name": "now", "parameters": {")"));
  EXPECT_TRUE(accepts(*s, R"({"name": "f", "parameters": {"o": {"any": [1], "ключ": "é"}}})"));
  EXPECT_FALSE(prefix_ok(*s, "{\"name\": \"f\", \"parameters\": {\"o\": {\"\xC3\x28"));  // bad UTF-8 in a key
}

TEST(JsonSchemaMatcher, SchemaLimitsAreReported) {
  Json many = Json::array();
  for (int i = 0; i < 65; ++i) many.push_back({{"name", "t" + std::to_string(i)}});
  EXPECT_THROW(CompiledSchema::tool_call(many), std::invalid_argument);
  EXPECT_THROW(CompiledSchema::tool_call(Json::array()), std::invalid_argument);
}
