#include "tools/mcp_http.h"

#include <sstream>

#include "tools/html_text.h"

namespace agentrt::tools {

std::vector<std::string> sse_event_data(const std::string& body) {
  std::vector<std::string> events;
  std::string data;
  bool has_data = false;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (has_data) events.push_back(data);
      data.clear();
      has_data = false;
      continue;
    }
    if (line.rfind("data:", 0) == 0) {
      std::string value = line.substr(5);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      data += (has_data ? "\n" : "") + value;
      has_data = true;
    }
    // "event:", "id:", "retry:" and ":" comments carry nothing the client needs.
  }
  if (has_data) events.push_back(data);
  return events;
}

HttpTransport::HttpTransport(HttpServerSpec spec) : spec_(std::move(spec)) {}

void HttpTransport::send(const Json& message, Deadline deadline) {
  FetchRequest request;
  request.method = "POST";
  request.url = spec_.url;
  request.body = message.dump();
  request.headers = spec_.headers;
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json, text/event-stream");
  if (!session_id_.empty()) request.headers.emplace_back("Mcp-Session-Id", session_id_);
  if (!protocol_version_.empty()) request.headers.emplace_back("MCP-Protocol-Version", protocol_version_);

  FetchResponse response;
  try {
    response = safe_fetch(request, spec_.policy, deadline);
  } catch (const FetchError& e) {
    if (e.kind() == FetchError::Kind::Timeout) throw McpError(McpError::Kind::Timeout, e.what());
    throw McpError(McpError::Kind::Start, std::string("cannot reach ") + spec_.url + ": " + e.what());
  }
  if (response.status == 202 || response.status == 204) return;  // a notification or response was accepted
  if (response.status >= 400) {
    std::string detail = cut_to_budget(response.body, 300);
    throw McpError(McpError::Kind::Closed, spec_.url + " answered HTTP " + std::to_string(response.status) +
                                               (detail.empty() ? "" : ": " + detail));
  }
  if (const std::string id = response.header("mcp-session-id"); !id.empty()) session_id_ = id;

  auto accept = [&](const std::string& payload) {
    Json parsed = Json::parse(payload, nullptr, false);
    if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_array())) {
      throw McpError(McpError::Kind::Protocol, spec_.url + " sent something that is not JSON-RPC: '" +
                                                   cut_to_budget(payload, 200) + "'");
    }
    for (const Json& m : parsed.is_array() ? parsed : Json::array({parsed})) {
      if (!m.is_object())
        throw McpError(McpError::Kind::Protocol, spec_.url + " sent a batch with a non-object");
      // The version the server agreed to travels on every later request (MCP 2025-06-18).
      if (m.contains("result") && m["result"].is_object() && m["result"].contains("protocolVersion") &&
          m["result"]["protocolVersion"].is_string()) {
        protocol_version_ = m["result"]["protocolVersion"].get<std::string>();
      }
      inbox_.push_back(m);
    }
  };
  if (response.content_type == "text/event-stream") {
    for (const auto& data : sse_event_data(response.body)) accept(data);
  } else if (response.content_type == "application/json" || response.content_type.empty()) {
    accept(response.body);
  } else {
    throw McpError(McpError::Kind::Protocol, spec_.url + " answered with content type '" +
                                                 response.content_type +
                                                 "' instead of JSON or an event stream");
  }
}

Json HttpTransport::receive(Deadline) {
  if (inbox_.empty()) {
    throw McpError(McpError::Kind::Protocol,
                   spec_.url + " ended its answer without a response to the request");
  }
  Json m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

}  // namespace agentrt::tools
