#include "tools/mcp_tool.h"

#include <algorithm>

namespace agentrt::tools {
namespace {

std::string string_of(const Json& entry, const std::string& server, const char* key) {
  if (!entry.contains(key)) return {};
  if (!entry[key].is_string()) {
    throw std::invalid_argument("mcpServers." + server + "." + key + " must be a string");
  }
  return entry[key].get<std::string>();
}

std::vector<std::pair<std::string, std::string>> pairs_of(const Json& entry, const std::string& server,
                                                          const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!entry.contains(key)) return out;
  if (!entry[key].is_object())
    throw std::invalid_argument("mcpServers." + server + "." + key + " must be an object");
  for (const auto& [k, v] : entry[key].items()) {
    if (!v.is_string())
      throw std::invalid_argument("mcpServers." + server + "." + key + "." + k + " must be a string");
    out.emplace_back(k, v.get<std::string>());
  }
  return out;
}

}  // namespace

std::vector<McpServerConfig> parse_mcp_servers(const Json& config) {
  const Json& servers = config.is_object() && config.contains("mcpServers") ? config["mcpServers"] : config;
  if (!servers.is_object())
    throw std::invalid_argument("mcpServers must be an object of server names to settings");
  std::vector<McpServerConfig> out;
  for (const auto& [name, entry] : servers.items()) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        })) {
      throw std::invalid_argument("MCP server name '" + name + "' may only use letters, digits, '_' and '-'");
    }
    if (!entry.is_object()) throw std::invalid_argument("mcpServers." + name + " must be an object");
    if (entry.value("disabled", false)) continue;
    McpServerConfig server;
    server.name = name;
    const std::string type = string_of(entry, name, "type");
    const std::string url = string_of(entry, name, "url");
    const std::string command = string_of(entry, name, "command");
    if (type == "sse") {
      throw std::invalid_argument("mcpServers." + name +
                                  ": the legacy HTTP+SSE transport is not supported; use streamable HTTP");
    }
    if (!type.empty() && type != "stdio" && type != "http" && type != "streamable-http" &&
        type != "streamableHttp") {
      throw std::invalid_argument("mcpServers." + name + ".type must be stdio or http, not '" + type + "'");
    }
    server.http = !url.empty() && type != "stdio";
    if (server.http) {
      server.endpoint.url = url;
      server.endpoint.headers = pairs_of(entry, name, "headers");
      // The operator wrote this address (as they could write any command to run): it may be local or private.
      Json fetch = entry.value("fetch", Json::object());
      if (!fetch.contains("allow_loopback")) fetch["allow_loopback"] = true;
      if (!fetch.contains("allow_private")) fetch["allow_private"] = true;
      if (!fetch.contains("timeout_ms"))
        fetch["timeout_ms"] = 0;  // the client's deadline bounds each request
      server.endpoint.policy = FetchPolicy::from_json(fetch);
    } else {
      if (command.empty())
        throw std::invalid_argument("mcpServers." + name + " needs a \"command\" or a \"url\"");
      server.stdio.command = command;
      server.stdio.cwd = string_of(entry, name, "cwd");
      server.stdio.env = pairs_of(entry, name, "env");
      if (entry.contains("args")) {
        if (!entry["args"].is_array())
          throw std::invalid_argument("mcpServers." + name + ".args must be a list");
        for (const auto& a : entry["args"]) {
          if (!a.is_string())
            throw std::invalid_argument("mcpServers." + name + ".args must be a list of strings");
          server.stdio.args.push_back(a.get<std::string>());
        }
      }
    }
    for (const char* key : {"timeout_ms", "timeout"}) {
      if (!entry.contains(key)) continue;
      if (!entry[key].is_number_integer() || entry[key].get<long long>() <= 0) {
        throw std::invalid_argument("mcpServers." + name + "." + key +
                                    " must be a positive number of milliseconds");
      }
      server.timeout = std::chrono::milliseconds(entry[key].get<long long>());
    }
    out.push_back(std::move(server));
  }
  return out;
}

std::shared_ptr<McpClient> make_mcp_client(const McpServerConfig& server) {
  McpClient::TransportFactory factory;
  if (server.http) {
    factory = [spec = server.endpoint] { return std::make_unique<HttpTransport>(spec); };
  } else {
    factory = [spec = server.stdio] { return std::make_unique<StdioTransport>(spec); };
  }
  return std::make_shared<McpClient>(server.name, std::move(factory), server.timeout);
}

McpTool::McpTool(std::shared_ptr<McpClient> client, McpToolInfo info)
    : client_(std::move(client)), info_(std::move(info)) {
  parameters_ = info_.input_schema.is_object() ? info_.input_schema : Json::object();
  parameters_.erase("$schema");  // noise in the prompt
  if (!parameters_.contains("type")) parameters_["type"] = "object";
  if (!parameters_.contains("properties")) parameters_["properties"] = Json::object();
}

std::string render_mcp_content(const Json& result) {
  std::string text;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!text.empty()) text += "\n";
    text += part;
  };
  bool has_text = false;
  if (result.contains("content") && result["content"].is_array()) {
    for (const auto& c : result["content"]) {
      const std::string type = c.value("type", std::string());
      if (type == "text") {
        add(c.value("text", std::string()));
        has_text = true;
      } else if (type == "image" || type == "audio") {
        const std::size_t bytes = c.value("data", std::string()).size() * 3 / 4;
        add("[" + type + ": " + c.value("mimeType", std::string("unknown type")) + ", about " +
            std::to_string(bytes) + " bytes]");
      } else if (type == "resource" && c.contains("resource") && c["resource"].is_object()) {
        const Json& r = c["resource"];
        if (r.contains("text") && r["text"].is_string()) {
          add("[resource " + r.value("uri", std::string()) + "]\n" + r["text"].get<std::string>());
          has_text = true;
        } else {
          add("[resource " + r.value("uri", std::string()) + ": " +
              r.value("mimeType", std::string("binary")) + "]");
        }
      } else if (type == "resource_link") {
        add("[link: " + c.value("name", std::string()) + " " + c.value("uri", std::string()) + "]");
      } else if (!type.empty()) {
        add("[" + type + " content]");
      }
    }
  }
  if (!has_text && result.contains("structuredContent")) add(result["structuredContent"].dump(2));
  return text.empty() ? "(no content)" : text;
}

agent::ToolResult McpTool::run(const Json& arguments, const agent::ToolContext& ctx) {
  try {
    Json result = client_->call_tool(info_.name, arguments, ctx.deadline);
    std::string text = render_mcp_content(result);
    if (result.value("isError", false)) return agent::ToolResult::failure(text, result);
    return agent::ToolResult::success(text, result);
  } catch (const McpError& e) {
    return agent::ToolResult::failure(e.what());
  }
}

McpLoadResult load_mcp_tools(const Json& config, std::chrono::milliseconds startup_timeout) {
  McpLoadResult out;
  std::vector<McpServerConfig> servers;
  try {
    servers = parse_mcp_servers(config);
  } catch (const std::invalid_argument& e) {
    out.errors.push_back(e.what());
    return out;
  }
  for (const auto& server : servers) {
    try {
      auto client = make_mcp_client(server);
      const auto deadline = std::chrono::steady_clock::now() + startup_timeout;
      client->connect(deadline);
      for (auto& info : client->list_tools(deadline)) {
        out.tools.push_back(std::make_shared<McpTool>(client, std::move(info)));
      }
    } catch (const McpError& e) {
      out.errors.push_back(e.what());
    }
  }
  return out;
}

}  // namespace agentrt::tools
