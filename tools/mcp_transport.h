// How an MCP client exchanges JSON-RPC messages with one server: over a child process's stdin/stdout (stdio)
// or over streamable HTTP. A transport only moves messages; the client (mcp_client.h) pairs requests and
// responses.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "agent/schema.h"

namespace agentrt::tools {

class McpError : public std::runtime_error {
 public:
  enum class Kind {
    Start,     // the server could not be started or reached
    Closed,    // the server exited or closed the connection
    Protocol,  // the server sent something that is not JSON-RPC
    Timeout,   // no answer before the deadline
    Rpc,       // the server answered with a JSON-RPC error
  };
  McpError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
  // After these the transport is unusable and must be replaced.
  bool transport_broken() const {
    return kind_ == Kind::Closed || kind_ == Kind::Protocol || kind_ == Kind::Start;
  }

 private:
  Kind kind_;
};

class McpTransport {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  virtual ~McpTransport() = default;
  // Sends one message; throws McpError.
  virtual void send(const Json& message, Deadline deadline) = 0;
  // The next message from the server, waiting until `deadline`; throws McpError.
  virtual Json receive(Deadline deadline) = 0;
};

}  // namespace agentrt::tools
