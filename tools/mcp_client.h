// An MCP client for one server: the initialize handshake, tools/list (with pagination) and tools/call over
// any transport, JSON-RPC ids paired with their responses, pings and other server requests answered,
// notifications skipped. When the transport breaks (the server died or spoke garbage) the next request starts
// a fresh one through the factory and repeats the handshake, so one bad moment does not lose the server for
// the whole run.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tools/mcp_transport.h"

namespace agentrt::tools {

struct McpToolInfo {
  std::string name;
  std::string description;
  Json input_schema = Json::object();
};

class McpClient {
 public:
  using TransportFactory = std::function<std::unique_ptr<McpTransport>()>;
  using Deadline = McpTransport::Deadline;

  // `timeout`: per request unless the caller's deadline is sooner. Connects lazily (see connect()).
  McpClient(std::string server_name, TransportFactory factory, std::chrono::milliseconds timeout);

  // Starts the transport and performs the handshake now; throws McpError naming the server.
  void connect(Deadline deadline);
  std::vector<McpToolInfo> list_tools(Deadline deadline);
  // The `result` object of tools/call; throws McpError (Rpc for a JSON-RPC error answer).
  Json call_tool(const std::string& tool, const Json& arguments, Deadline deadline);

  const std::string& server_name() const { return name_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // From the server's initialize answer.
  const Json& server_info() const { return server_info_; }
  const std::string& protocol_version() const { return protocol_version_; }

  static constexpr const char* kProtocolVersion = "2025-06-18";

 private:
  Json request(const std::string& method, const Json& params, Deadline deadline);
  Json exchange(const std::string& method, const Json& params, Deadline deadline);
  void handshake(Deadline deadline);
  Deadline bounded(Deadline deadline) const;

  std::string name_;
  TransportFactory factory_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<McpTransport> transport_;
  long long next_id_ = 1;
  Json server_info_ = Json::object();
  std::string protocol_version_;
  std::mutex mutex_;
};

}  // namespace agentrt::tools
