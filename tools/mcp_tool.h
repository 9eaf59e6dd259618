// MCP servers as tools: the `mcpServers` configuration (the shape other agent hosts use), a client per
// server, and one agent::Tool per server tool, named "<server>.<tool>" with the server's JSON schema. Loading
// never stops at a bad server: its error is reported and the other servers' tools are still offered.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/schema.h"
#include "tools/mcp_client.h"
#include "tools/mcp_http.h"
#include "tools/mcp_stdio.h"

namespace agentrt::tools {

struct McpServerConfig {
  std::string name;
  bool http = false;  // false: stdio
  StdioServerSpec stdio;
  HttpServerSpec endpoint;
  std::chrono::milliseconds timeout{60000};  // per request
};

// Parses {"mcpServers": {"name": {"command", "args", "env", "cwd"} | {"url", "headers", "type"}, ...}} (or
// the inner object alone). Per server also "timeout_ms" and "disabled". Throws std::invalid_argument naming
// the server and the key that is wrong.
std::vector<McpServerConfig> parse_mcp_servers(const Json& config);

// The client for a configured server (not yet connected).
std::shared_ptr<McpClient> make_mcp_client(const McpServerConfig& server);

class McpTool : public agent::Tool {
 public:
  McpTool(std::shared_ptr<McpClient> client, McpToolInfo info);
  std::string name() const override { return client_->server_name() + "." + info_.name; }
  std::string description() const override { return info_.description; }
  Json parameters() const override { return parameters_; }
  std::chrono::milliseconds default_timeout() const override { return client_->timeout(); }
  agent::ToolResult run(const Json& arguments, const agent::ToolContext& ctx) override;

 private:
  std::shared_ptr<McpClient> client_;
  McpToolInfo info_;
  Json parameters_;
};

// What a tools/call result shows the model: its text content, other content described, structured content
// when there is no text.
std::string render_mcp_content(const Json& result);

struct McpLoadResult {
  std::vector<std::shared_ptr<agent::Tool>> tools;
  std::vector<std::string> errors;  // one per server that could not be used, naming it
};

// Starts every configured server, lists its tools and wraps them; a server that fails is skipped with an
// error.
McpLoadResult load_mcp_tools(const Json& config,
                             std::chrono::milliseconds startup_timeout = std::chrono::seconds(30));

}  // namespace agentrt::tools
