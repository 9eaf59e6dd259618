// The MCP stdio transport: the server is a child process (in its own process group, so stopping it also stops
// what it started, e.g. npx → node) speaking newline-delimited JSON-RPC on stdin/stdout. Its stderr is
// drained and the last few KiB are kept to explain failures ("exited with status 1: Error: Cannot find module
// ...").
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "tools/mcp_transport.h"

namespace agentrt::tools {

struct StdioServerSpec {
  std::string command;  // looked up on PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>>
      env;          // added to (or replacing in) this process's environment
  std::string cwd;  // "" keeps the current folder
};

class StdioTransport : public McpTransport {
 public:
  // Starts the server; throws McpError(Start) when it cannot be started.
  explicit StdioTransport(const StdioServerSpec& spec);
  ~StdioTransport() override;
  StdioTransport(const StdioTransport&) = delete;
  StdioTransport& operator=(const StdioTransport&) = delete;

  void send(const Json& message, Deadline deadline) override;
  Json receive(Deadline deadline) override;

  pid_t pid() const { return pid_; }

 private:
  // Reads what is available on stdout/stderr, waiting at most `timeout_ms`; false when stdout reached EOF.
  bool pump(int timeout_ms);
  [[noreturn]] void fail_closed(const std::string& what);
  std::string stderr_tail() const;
  void stop();

  std::string command_;
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  int child_err_ = -1;
  std::string out_buffer_;
  std::string err_tail_;
};

}  // namespace agentrt::tools
