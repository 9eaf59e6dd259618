#include <gtest/gtest.h>

#include "agent/schema_validator.h"
#include "agent/tool_registry.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

class EchoTool : public Tool {
 public:
  explicit EchoTool(std::string name, Json schema, Channel channel = Channel::Plugin)
      : name_(std::move(name)), schema_(std::move(schema)), channel_(channel) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "echo"; }
  Json parameters() const override { return schema_; }
  Channel channel() const override { return channel_; }
  ToolResult run(const Json& args, const ToolContext&) override { return ToolResult::success(args.dump()); }

 private:
  std::string name_;
  Json schema_;
  Channel channel_;
};

std::vector<std::string> kinds(const Json& schema, const Json& value) {
  std::vector<std::string> out;
  for (const auto& v : validate_against_schema(schema, value)) out.push_back(v.kind + ":" + v.path);
  return out;
}

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "query": {"type": "string", "minLength": 1},
    "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
    "source": {"type": "string", "enum": ["local", "web"]},
    "ratio": {"type": ["number", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "filter": {"type": "object", "properties": {"year": {"type": "integer"}}, "required": ["year"]},
    "flag": {"type": "boolean"}
  },
  "required": ["query"]
})");

}  // namespace

TEST(SchemaValidator, AcceptsValidArguments) {
  EXPECT_TRUE(kinds(kSchema, Json::parse(R"({"query": "x", "top_k": 3, "source": "web", "ratio": null,
      "tags": ["a"], "filter": {"year": 2024}, "flag": true})")).empty());
  EXPECT_TRUE(kinds(kSchema, Json::parse(R"({"query": "x", "top_k": 3.0})")).empty());  // 3.0 is an integer
}

TEST(SchemaValidator, ReportsEachViolationWithItsPath) {
  using V = std::vector<std::string>;
  EXPECT_EQ(kinds(kSchema, Json::object()), V{"missing:query"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "extra": 1})")), V{"unknown:extra"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": 5})")), V{"type:query"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "top_k": 2.5})")), V{"type:top_k"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "top_k": 0})")), V{"range:top_k"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "top_k": 51})")), V{"range:top_k"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "source": "moon"})")), V{"enum:source"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": ""})")), V{"length:query"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "ratio": "1"})")), V{"type:ratio"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "tags": ["a", 2]})")), V{"type:tags[1]"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "filter": {}})")), V{"missing:filter.year"});
  // Nested objects are open unless they say otherwise (JSON Schema); the tool's own arguments are closed.
  EXPECT_TRUE(kinds(kSchema, Json::parse(R"({"query": "x", "filter": {"year": 1, "month": 2}})")).empty());
  Json closed_nested = kSchema;
  closed_nested["properties"]["filter"]["additionalProperties"] = false;
  EXPECT_EQ(kinds(closed_nested, Json::parse(R"({"query": "x", "filter": {"year": 1, "month": 2}})")),
            V{"unknown:filter.month"});
  EXPECT_EQ(kinds(kSchema, Json::parse(R"({"query": "x", "flag": "yes"})")), V{"type:flag"});
}

TEST(SchemaValidator, AdditionalPropertiesCanBeAllowed) {
  Json schema = Json::parse(R"({"type": "object", "properties": {}, "additionalProperties": true})");
  EXPECT_TRUE(kinds(schema, Json::parse(R"({"anything": 1})")).empty());
  schema = Json::parse(R"({"type": "object", "additionalProperties": {"type": "string"}})");
  EXPECT_EQ(kinds(schema, Json::parse(R"({"a": "x", "b": 1})")), std::vector<std::string>{"type:b"});
}

TEST(ToolRegistry, RejectsDuplicatesAndBadSchemas) {
  ToolRegistry r;
  r.add(std::make_shared<EchoTool>("echo", kSchema));
  EXPECT_THROW(r.add(std::make_shared<EchoTool>("echo", kSchema)), std::invalid_argument);
  EXPECT_THROW(r.add(std::make_shared<EchoTool>("bad", Json::parse(R"({"type": "string"})"))), std::invalid_argument);
  EXPECT_THROW(r.add(std::make_shared<EchoTool>("bad2", Json::parse(R"({"type": "object", "required": "x"})"))),
               std::invalid_argument);
  EXPECT_THROW(r.add(nullptr), std::invalid_argument);
  r.add(std::make_shared<EchoTool>("py", Json::parse(R"({"type": "object"})"), Channel::Interpreter));
  EXPECT_THROW(r.add(std::make_shared<EchoTool>("py2", Json::parse(R"({"type": "object"})"), Channel::Interpreter)),
               std::invalid_argument);
  EXPECT_TRUE(r.has_interpreter());
  EXPECT_TRUE(r.has_plugins());
  EXPECT_EQ(r.plugin_descriptions().size(), 1u);
  EXPECT_EQ(r.plugin_descriptions()[0]["name"], "echo");
}

TEST(ToolRegistry, DispatchRoutesByChannel) {
  ToolRegistry r;
  r.add(std::make_shared<EchoTool>("echo", kSchema));
  Action code;
  code.channel = Channel::Interpreter;
  code.code = "return 1";
  EXPECT_EQ(r.dispatch(code, {}).text, "The code interpreter is not available in this session; use the listed tools.");
  r.add(std::make_shared<EchoTool>(
      "lua", Json::parse(R"({"type": "object", "properties": {"code": {"type": "string"}, "language": {"type": "string"}}})"),
      Channel::Interpreter));
  auto res = r.dispatch(code, {});
  EXPECT_TRUE(res.ok);
  EXPECT_EQ(res.text, R"({"code":"return 1","language":""})");
  // A plugin call naming the interpreter tool is not a plugin call.
  Action wrong;
  wrong.name = "lua";
  EXPECT_FALSE(r.dispatch(wrong, {}).ok);
}

TEST(ToolRegistry, InvalidActionsAreNotRun) {
  ToolRegistry r;
  r.add(std::make_shared<EchoTool>("echo", kSchema));
  Action a;
  a.name = "echo";
  a.valid = false;
  a.error = "invalid json format: x";
  auto res = r.dispatch(a, {});
  EXPECT_FALSE(res.ok);
  EXPECT_EQ(res.text, "invalid json format: x");
}

TEST(ToolRegistry, CancelledContextDoesNotRun) {
  ToolRegistry r;
  r.add(std::make_shared<EchoTool>("echo", kSchema));
  std::atomic<bool> cancelled{true};
  ToolContext ctx;
  ctx.cancelled = &cancelled;
  Action a;
  a.name = "echo";
  a.arguments = Json{{"query", "x"}};
  EXPECT_EQ(r.dispatch(a, ctx).text, "The run was cancelled before the tool ran.");
}

TEST(ToolRegistry, TimeoutOverride) {
  ToolRegistry r;
  auto t = std::make_shared<EchoTool>("echo", kSchema);
  r.add(t);
  EXPECT_EQ(r.timeout_of(*t), std::chrono::milliseconds(30000));
  r.set_timeout("echo", std::chrono::milliseconds(5));
  EXPECT_EQ(r.timeout_of(*t), std::chrono::milliseconds(5));
}
