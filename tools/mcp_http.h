// The MCP streamable HTTP transport: every client message is a POST to the server's endpoint; the answer is a
// JSON body or a text/event-stream whose events carry the server's messages. The session id the server
// assigns at initialisation (Mcp-Session-Id) is sent back on every later request. Requests go through the
// safe fetch layer with the policy the configuration gives.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "tools/mcp_transport.h"
#include "tools/safe_fetch.h"

namespace agentrt::tools {

struct HttpServerSpec {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  FetchPolicy policy;
};

class HttpTransport : public McpTransport {
 public:
  explicit HttpTransport(HttpServerSpec spec);
  void send(const Json& message, Deadline deadline) override;
  Json receive(Deadline deadline) override;

  const std::string& session_id() const { return session_id_; }

 private:
  HttpServerSpec spec_;
  std::string session_id_;
  std::string protocol_version_;
  std::deque<Json> inbox_;
};

// The JSON payloads of the events in a text/event-stream body ("data:" lines joined per event).
std::vector<std::string> sse_event_data(const std::string& body);

}  // namespace agentrt::tools
