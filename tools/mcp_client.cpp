#include "tools/mcp_client.h"

#include <algorithm>

namespace agentrt::tools {

McpClient::McpClient(std::string server_name, TransportFactory factory, std::chrono::milliseconds timeout)
    : name_(std::move(server_name)), factory_(std::move(factory)), timeout_(timeout) {}

McpClient::Deadline McpClient::bounded(Deadline deadline) const {
  return std::min(deadline, std::chrono::steady_clock::now() + timeout_);
}

void McpClient::connect(Deadline deadline) {
  std::lock_guard lock(mutex_);
  if (!transport_) handshake(bounded(deadline));
}

void McpClient::handshake(Deadline deadline) {
  try {
    transport_ = factory_();
    next_id_ = 1;  // a new session numbers its requests afresh
    Json params = {{"protocolVersion", kProtocolVersion},
                   {"capabilities", Json::object()},
                   {"clientInfo", {{"name", "agentrt"}, {"version", "0.1.0"}}}};
    Json result = exchange("initialize", params, deadline);
    if (!result.is_object() || !result.contains("protocolVersion")) {
      throw McpError(McpError::Kind::Protocol, "its initialize answer has no protocolVersion");
    }
    protocol_version_ =
        result["protocolVersion"].is_string() ? result["protocolVersion"].get<std::string>() : "";
    server_info_ = result.value("serverInfo", Json::object());
    transport_->send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, deadline);
  } catch (const McpError& e) {
    transport_.reset();
    throw McpError(e.kind(), "MCP server '" + name_ + "' did not start: " + e.what());
  }
}

// One JSON-RPC round trip on the current transport.
Json McpClient::exchange(const std::string& method, const Json& params, Deadline deadline) {
  const long long id = next_id_++;
  Json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) message["params"] = params;
  transport_->send(message, deadline);
  for (;;) {
    Json m = transport_->receive(deadline);
    const bool has_id = m.contains("id") && !m["id"].is_null();
    if (m.contains("method")) {
      if (has_id) {  // a request from the server: answer pings, decline the rest (we declare no capabilities)
        Json reply = {{"jsonrpc", "2.0"}, {"id", m["id"]}};
        if (m["method"] == "ping") {
          reply["result"] = Json::object();
        } else {
          reply["error"] = {{"code", -32601}, {"message", "method not supported by this client"}};
        }
        transport_->send(reply, deadline);
      }
      continue;  // notifications (progress, logging, list_changed) need no answer
    }
    if (!has_id || m["id"] != id) continue;  // a late answer to a request that already timed out
    if (m.contains("error")) {
      const Json& e = m["error"];
      std::string text = e.is_object() && e.contains("message") && e["message"].is_string()
                             ? e["message"].get<std::string>()
                             : e.dump();
      if (e.is_object() && e.contains("code")) text += " (code " + e["code"].dump() + ")";
      throw McpError(McpError::Kind::Rpc, text);
    }
    if (!m.contains("result"))
      throw McpError(McpError::Kind::Protocol, "an answer with neither result nor error");
    return m["result"];
  }
}

Json McpClient::request(const std::string& method, const Json& params, Deadline deadline) {
  std::lock_guard lock(mutex_);
  deadline = bounded(deadline);
  if (!transport_) handshake(deadline);
  try {
    return exchange(method, params, deadline);
  } catch (const McpError& e) {
    if (e.transport_broken()) transport_.reset();  // the next request starts the server again
    if (e.kind() == McpError::Kind::Timeout) {
      throw McpError(e.kind(), "MCP server '" + name_ + "' did not answer " + method + " in time (limit " +
                                   std::to_string(timeout_.count()) + " ms or the run's deadline)");
    }
    throw McpError(e.kind(), "MCP server '" + name_ + "': " + e.what());
  }
}

std::vector<McpToolInfo> McpClient::list_tools(Deadline deadline) {
  std::vector<McpToolInfo> tools;
  Json cursor;
  for (int page = 0; page < 100; ++page) {
    Json params = Json::object();
    if (!cursor.is_null()) params["cursor"] = cursor;
    Json result = request("tools/list", params, deadline);
    if (!result.is_object() || !result.contains("tools") || !result["tools"].is_array()) {
      throw McpError(McpError::Kind::Protocol,
                     "MCP server '" + name_ + "': its tools/list answer has no tools list");
    }
    for (const auto& t : result["tools"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      McpToolInfo info;
      info.name = t["name"].get<std::string>();
      info.description = t.value("description", t.value("title", std::string()));
      info.input_schema = t.value("inputSchema", Json::object());
      tools.push_back(std::move(info));
    }
    if (!result.contains("nextCursor") || result["nextCursor"].is_null()) break;
    cursor = result["nextCursor"];
  }
  return tools;
}

Json McpClient::call_tool(const std::string& tool, const Json& arguments, Deadline deadline) {
  return request("tools/call",
                 {{"name", tool}, {"arguments", arguments.is_object() ? arguments : Json::object()}},
                 deadline);
}

}  // namespace agentrt::tools
