// The MCP client end to end: the reference servers from npm (server-everything, server-filesystem; installed
// by scripts/setup-npm-tools, skipped with a reason when absent), small shell servers that misbehave on
// purpose (garbage, dying, silent), a streamable-HTTP server on 127.0.0.1, and the mcpServers configuration.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/tool_registry.h"
#include "tests/tools/test_http_local_server.h"
#include "tools/mcp_tool.h"

namespace agentrt::tools {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kModules = AGENTRT_SOURCE_DIR "/tests/tools/mcp/node_modules/@modelcontextprotocol/";
const std::string kEverything = kModules + "server-everything/dist/index.js";
const std::string kFilesystem = kModules + "server-filesystem/dist/index.js";

bool have_node() {
  return std::system("node --version > /dev/null 2>&1") == 0;
}

#define SKIP_WITHOUT(server)                                                                                \
  if (!fs::exists(server) || !have_node()) {                                                                \
    GTEST_SKIP() << "the MCP reference servers are not installed (run scripts/setup-npm-tools; needs node " \
                    "and npm): "                                                                            \
                 << server;                                                                                 \
  }

std::shared_ptr<agent::Tool> find(const McpLoadResult& loaded, const std::string& name) {
  for (const auto& t : loaded.tools) {
    if (t->name() == name) return t;
  }
  return nullptr;
}

fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "agentrt-mcp-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return fs::canonical(pattern);
}

TEST(McpEverything, ListsToolsWithSchemasAndCallsThemThroughTheRegistry) {
  SKIP_WITHOUT(kEverything);
  McpLoadResult loaded = load_mcp_tools(Json::parse(
      R"({"mcpServers": {"everything": {"command": "node", "args": [")" + kEverything + R"(", "stdio"]}}})"));
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  auto echo = find(loaded, "everything.echo");
  ASSERT_NE(echo, nullptr);
  Json schema = echo->parameters();
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["required"], Json::array({"message"}));
  EXPECT_FALSE(schema.contains("$schema"));

  agent::ToolRegistry registry;
  for (const auto& t : loaded.tools) registry.add(t);
  agent::ToolContext ctx;
  agent::Action call;
  call.name = "everything.echo";
  call.arguments = {{"message", "hello from agentrt"}};
  agent::ToolResult r = registry.dispatch(call, ctx);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "Echo: hello from agentrt");

  call.name = "everything.get-sum";
  call.arguments = {{"a", 2}, {"b", 40}};
  r = registry.dispatch(call, ctx);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("42"), std::string::npos) << r.text;

  call.name = "everything.echo";
  call.arguments = Json::object();  // the registry checks the server's schema before the server is asked
  r = registry.dispatch(call, ctx);
  EXPECT_FALSE(r.ok);

  auto image = find(loaded, "everything.get-tiny-image");
  ASSERT_NE(image, nullptr);
  r = image->run(Json::object(), ctx);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("[image: image/png, about "), std::string::npos) << r.text;
}

TEST(McpFilesystem, ReadsAndWritesInsideItsRootAndReportsRefusals) {
  SKIP_WITHOUT(kFilesystem);
  const fs::path root = make_temp_dir();
  std::ofstream(root / "notes.txt") << "first line\nsecond line\n";
  Json config = {{"mcpServers", {{"fs", {{"command", "node"}, {"args", {kFilesystem, root.string()}}}}}}};
  McpLoadResult loaded = load_mcp_tools(config);
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  agent::ToolContext ctx;
  auto read = find(loaded, "fs.read_text_file");
  auto write = find(loaded, "fs.write_file");
  auto list = find(loaded, "fs.list_directory");
  ASSERT_TRUE(read && write && list);

  auto r = read->run({{"path", (root / "notes.txt").string()}}, ctx);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "first line\nsecond line\n");
  r = write->run({{"path", (root / "new.md").string()}, {"content", "# Written by MCP\n"}}, ctx);
  ASSERT_TRUE(r.ok) << r.text;
  std::ifstream in(root / "new.md");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "# Written by MCP");
  r = list->run({{"path", root.string()}}, ctx);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("[FILE] new.md"), std::string::npos) << r.text;
  r = read->run({{"path", "/etc/hostname"}}, ctx);  // outside the allowed folder: the server's own error
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("Access denied"), std::string::npos) << r.text;
  fs::remove_all(root);
}

// Shell servers answering with canned lines: initialize is id 1, tools/list id 2 (ids count up from 1).
const char* kInitAnswer =
    R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"0"}}})";
const char* kListAnswer =
    R"({"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"work","description":"does work","inputSchema":{"type":"object","properties":{}}}]}})";

Json shell_server(const std::string& script, long long timeout_ms = 5000) {
  return {
      {"mcpServers", {{"fake", {{"command", "sh"}, {"args", {"-c", script}}, {"timeout_ms", timeout_ms}}}}}};
}

// A shell server that answers the handshake and runs `on_call` for tools/call.
std::string fake_server(const std::string& on_call) {
  return std::string("while read -r l; do case \"$l\" in ") + "*'\"initialize\"'*) printf '%s\\n' '" +
         kInitAnswer + "' ;; *'\"tools/list\"'*) printf '%s\\n' '" + kListAnswer +
         "' ;; *'\"tools/call\"'*) " + on_call + " ;; esac; done";
}

TEST(McpMisbehaving, GarbageIsAClearErrorAndLoadingGoesOn) {
  Json config = shell_server("read l; echo 'Welcome to my server!'; sleep 10");
  config["mcpServers"]["missing"] = {{"command", "/nonexistent/mcp-server"}};
  config["mcpServers"]["dead"] = {{"command", "sh"},
                                  {"args", {"-c", "echo 'fatal: no config file' >&2; exit 3"}}};
  const auto started = Clock::now();
  McpLoadResult loaded = load_mcp_tools(config);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(4));
  EXPECT_TRUE(loaded.tools.empty());
  ASSERT_EQ(loaded.errors.size(), 3u);
  std::string all;
  for (const auto& e : loaded.errors) all += e + "\n";
  EXPECT_NE(
      all.find(
          "MCP server 'fake' did not start: the server 'sh' wrote something that is not a JSON-RPC message: "
          "'Welcome to my server!'"),
      std::string::npos)
      << all;
  EXPECT_NE(all.find("MCP server 'missing' did not start: cannot start '/nonexistent/mcp-server'"),
            std::string::npos)
      << all;
  EXPECT_NE(
      all.find("MCP server 'dead' did not start: the server 'sh' exited (exit status 3); its last output on "
               "stderr: fatal: no config file"),
      std::string::npos)
      << all;
}

TEST(McpMisbehaving, ServerDyingMidCallIsReportedAndRestarted) {
  const fs::path dir = make_temp_dir();
  const std::string starts = (dir / "starts").string();
  McpLoadResult loaded = load_mcp_tools(
      shell_server("echo start >> " + starts + "; " + fake_server("echo 'segfault in work' >&2; exit 7")));
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  auto work = find(loaded, "fake.work");
  ASSERT_NE(work, nullptr);
  agent::ToolContext ctx;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = work->run(Json::object(), ctx);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.text.find("MCP server 'fake': the server 'sh' exited (exit status 7)"), std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("segfault in work"), std::string::npos) << r.text;
  }
  std::ifstream in(starts);
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, 2);  // started for loading, restarted for the second call
  fs::remove_all(dir);
}

TEST(McpMisbehaving, GarbageAnswerToACallIsAnErrorAndTheNextCallWorks) {
  const fs::path dir = make_temp_dir();
  const std::string calls = (dir / "calls").string();
  // The first call gets garbage; later calls get a proper answer (ids restart at 1 in a new session: call is
  // 2).
  const std::string on_call =
      "if [ -e " + calls + " ]; then printf '%s\\n' " +
      R"('{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"fine now"}]}}')" +
      "; else touch " + calls + "; echo '<html>502 Bad Gateway</html>'; fi";
  McpLoadResult loaded = load_mcp_tools(shell_server(fake_server(on_call)));
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  auto work = find(loaded, "fake.work");
  ASSERT_NE(work, nullptr);
  agent::ToolContext ctx;
  auto r = work->run(Json::object(), ctx);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("not a JSON-RPC message: '<html>502 Bad Gateway</html>'"), std::string::npos)
      << r.text;
  r = work->run(Json::object(), ctx);
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "fine now");
  fs::remove_all(dir);
}

TEST(McpMisbehaving, SilentServerTimesOut) {
  McpLoadResult loaded = load_mcp_tools(shell_server(fake_server("sleep 30"), 400));
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  auto work = find(loaded, "fake.work");
  ASSERT_NE(work, nullptr);
  EXPECT_EQ(work->default_timeout(), std::chrono::milliseconds(400));
  agent::ToolContext ctx;
  const auto started = Clock::now();
  auto r = work->run(Json::object(), ctx);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("MCP server 'fake' did not answer tools/call in time"), std::string::npos) << r.text;
  EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(1500));
}

class McpStreamableHttp : public ::testing::Test {
 protected:
  McpStreamableHttp()
      : server_([this](httplib::Server& s) {
          s.Post("/mcp", [this](const httplib::Request& req, httplib::Response& res) {
            Json m = Json::parse(req.body);
            const std::string method = m.value("method", "");
            if (method != "initialize" && req.get_header_value("Mcp-Session-Id") != "session-42") {
              res.status = 400;
              res.set_content("missing or wrong Mcp-Session-Id", "text/plain");
              return;
            }
            if (method == "initialize") {
              res.set_header("Mcp-Session-Id", "session-42");
              Json answer = {{"jsonrpc", "2.0"},
                             {"id", m["id"]},
                             {"result",
                              {{"protocolVersion", "2025-06-18"},
                               {"capabilities", {{"tools", Json::object()}}},
                               {"serverInfo", {{"name", "http-fake"}, {"version", "1"}}}}}};
              res.set_content(answer.dump(), "application/json");
            } else if (!m.contains("id")) {
              res.status = 202;
            } else if (method == "tools/list") {
              Json answer = {
                  {"jsonrpc", "2.0"},
                  {"id", m["id"]},
                  {"result",
                   {{"tools",
                     {{{"name", "add"},
                       {"description", "adds"},
                       {"inputSchema",
                        {{"type", "object"},
                         {"properties", {{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}},
                         {"required", {"a", "b"}}}}}}}}}};
              res.set_content("event: message\ndata: " + answer.dump() + "\n\n", "text/event-stream");
            } else if (method == "tools/call") {
              protocol_header_ = req.get_header_value("MCP-Protocol-Version");
              const Json& args = m["params"]["arguments"];
              Json progress = {{"jsonrpc", "2.0"},
                               {"method", "notifications/progress"},
                               {"params", {{"progressToken", 1}, {"progress", 1}}}};
              Json answer = {{"jsonrpc", "2.0"},
                             {"id", m["id"]},
                             {"result",
                              {{"content",
                                {{{"type", "text"},
                                  {"text", std::to_string(args["a"].get<int>() + args["b"].get<int>())}}}}}}};
              res.set_content(": keep-alive\n\nevent: message\ndata: " + progress.dump() +
                                  "\n\nevent: message\nid: 7\ndata: " + answer.dump() + "\n\n",
                              "text/event-stream");
            }
          });
          s.Post("/html", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("<html><body>login page</body></html>", "text/html");
          });
        }) {}
  testing::LocalHttpServer server_;
  std::string protocol_header_;
};

TEST_F(McpStreamableHttp, HandshakeSessionAndEventStreamAnswers) {
  McpLoadResult loaded = load_mcp_tools({{"mcpServers", {{"remote", {{"url", server_.url("/mcp")}}}}}});
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  auto add = find(loaded, "remote.add");
  ASSERT_NE(add, nullptr);
  agent::ToolContext ctx;
  auto r = add->run({{"a", 20}, {"b", 22}}, ctx);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "42");
  EXPECT_EQ(protocol_header_, "2025-06-18");
}

TEST_F(McpStreamableHttp, NonMcpEndpointsAndDeadServersAreClearErrors) {
  Json config = {
      {"mcpServers",
       {{"html", {{"url", server_.url("/html")}}}, {"gone", {{"url", "http://127.0.0.1:1/mcp"}}}}}};
  McpLoadResult loaded = load_mcp_tools(config);
  ASSERT_EQ(loaded.errors.size(), 2u);
  std::string all = loaded.errors[0] + "\n" + loaded.errors[1];
  EXPECT_NE(all.find("MCP server 'html' did not start: " + server_.url("/html") +
                     " answered with content type 'text/html' instead of JSON or an event stream"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("MCP server 'gone' did not start: cannot reach http://127.0.0.1:1/mcp"),
            std::string::npos)
      << all;
}

TEST(McpConfig, ParsesTheCommonShapeAndRejectsMistakes) {
  auto servers = parse_mcp_servers(Json::parse(R"({"mcpServers": {
      "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/data"],
                "env": {"DEBUG": "1"}, "timeout_ms": 9000},
      "remote": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer x"}},
      "off": {"command": "whatever", "disabled": true}}})"));
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0].name, "files");
  EXPECT_FALSE(servers[0].http);
  EXPECT_EQ(servers[0].stdio.args.size(), 3u);
  EXPECT_EQ(servers[0].stdio.env.at(0), std::make_pair(std::string("DEBUG"), std::string("1")));
  EXPECT_EQ(servers[0].timeout, std::chrono::milliseconds(9000));
  EXPECT_TRUE(servers[1].http);
  EXPECT_EQ(servers[1].endpoint.headers.at(0).second, "Bearer x");
  EXPECT_THROW(parse_mcp_servers(Json::parse(R"({"mcpServers": {"a.b": {"command": "x"}}})")),
               std::invalid_argument);
  EXPECT_THROW(parse_mcp_servers(Json::parse(R"({"mcpServers": {"a": {"args": []}}})")),
               std::invalid_argument);
  EXPECT_THROW(parse_mcp_servers(Json::parse(R"({"mcpServers": {"a": {"type": "sse", "url": "http://x"}}})")),
               std::invalid_argument);
  EXPECT_THROW(parse_mcp_servers(Json::parse(R"({"mcpServers": {"a": {"command": "x", "args": [1]}}})")),
               std::invalid_argument);
  McpLoadResult bad = load_mcp_tools(Json::parse(R"({"mcpServers": []})"));
  EXPECT_TRUE(bad.tools.empty());
  ASSERT_EQ(bad.errors.size(), 1u);
}

TEST(McpContent, RendersEveryContentKind) {
  Json result = Json::parse(R"({"content": [
      {"type": "text", "text": "hello"},
      {"type": "image", "data": "AAAAAAAA", "mimeType": "image/png"},
      {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inside"}},
      {"type": "resource_link", "uri": "file:///b.txt", "name": "b"}]})");
  EXPECT_EQ(
      render_mcp_content(result),
      "hello\n[image: image/png, about 6 bytes]\n[resource file:///a.txt]\ninside\n[link: b file:///b.txt]");
  EXPECT_EQ(render_mcp_content(Json::parse(R"({"content": [], "structuredContent": {"t": 1}})")),
            "{\n  \"t\": 1\n}");
  EXPECT_EQ(render_mcp_content(Json::object()), "(no content)");
}

}  // namespace
}  // namespace agentrt::tools
