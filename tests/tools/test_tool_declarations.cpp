// The built-in tools' declarations (description and argument schema) come from prompts/tools/*.json: each is
// a well-formed schema, keeps the key order of its file, and the ones the demo model was trained with are
// byte for byte the tools turn of its training data (tests/tools/data/demo_model_tools.json, gen_data.py's
// tools.json).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tools/tool_declaration.h"
#include "tools/tools.h"

namespace agentrt::tools {
namespace {

Json declared(const std::string& name) {
  const auto tool = make_tool(name, ToolsConfig{});
  return Json{
      {"name", tool->name()}, {"description", tool->description()}, {"parameters", tool->parameters()}};
}

TEST(ToolDeclarations, EveryBuiltinToolHasAWellFormedSchema) {
  for (const auto& name : builtin_tool_names()) {
    SCOPED_TRACE(name);
    const Json d = declared(name);
    EXPECT_EQ(d["name"], name);
    EXPECT_GT(d["description"].get<std::string>().size(), 20u);
    const Json& p = d["parameters"];
    ASSERT_EQ(p["type"], "object");
    ASSERT_TRUE(p["properties"].is_object());
    ASSERT_TRUE(p["required"].is_array());
    ASSERT_FALSE(p["required"].empty());
    for (const auto& key : p["required"])
      EXPECT_TRUE(p["properties"].contains(key.get<std::string>())) << key;
    for (const auto& [key, schema] : p["properties"].items()) {
      EXPECT_TRUE(schema.contains("type")) << key;
      EXPECT_TRUE(schema["description"].is_string()) << key;
    }
  }
}

TEST(ToolDeclarations, KeepTheKeyOrderOfTheirFile) {
  // The prompt lists arguments in the file's order, not sorted: query, top_k, source.
  const ToolDeclaration search = declaration_of("search");
  std::vector<std::string> keys;
  for (const auto& [key, _] : search.parameters["properties"].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"query", "top_k", "source"}));
}

TEST(ToolDeclarations, TheDemoModelsToolsAreWhatItWasTrainedOn) {
  std::ifstream in(AGENTRT_SOURCE_DIR "/tests/tools/data/demo_model_tools.json");
  ASSERT_TRUE(in) << "missing tests/tools/data/demo_model_tools.json";
  std::stringstream text;
  text << in.rdbuf();
  const Json trained = Json::parse(text.str());
  ASSERT_EQ(trained.size(), 3u);
  for (const auto& tool : trained) {
    SCOPED_TRACE(tool["name"].get<std::string>());
    // dump() compares the bytes the renderer writes, key order included.
    EXPECT_EQ(declared(tool["name"].get<std::string>()).dump(), tool.dump());
  }
}

TEST(ToolDeclarations, AToolWithoutAFileIsAClearError) {
  try {
    declaration_of("no_such_tool");
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("tools/no_such_tool.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace agentrt::tools
