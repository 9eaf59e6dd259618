// The `http` tool: one HTTP(S) request through the safe fetch layer (methods, headers, query parameters, JSON
// or text bodies), with a result the model can read: JSON pretty-printed, HTML as text, other text as is,
// binary described, everything cut to a budget with a clear marker.
#pragma once

#include <cstddef>
#include <string>

#include "agent/schema.h"
#include "tools/safe_fetch.h"

namespace agentrt::tools {

// What the model reads of a response body: content-type aware, at most about `max_chars` characters.
std::string render_response_body(const FetchResponse& response, std::size_t max_chars);

// True when the body looks like text (valid UTF-8, no NUL bytes) rather than binary data.
bool looks_like_text(std::string_view body);

class HttpTool : public agent::Tool {
 public:
  // settings: the FetchPolicy keys (see FetchPolicy::from_json) plus "max_chars" (default 8000).
  explicit HttpTool(const Json& settings = Json::object());

  std::string name() const override { return "http"; }
  std::string description() const override;
  Json parameters() const override;
  agent::ToolResult run(const Json& arguments, const agent::ToolContext& ctx) override;

 private:
  FetchPolicy policy_;
  std::size_t max_chars_ = 8000;
};

}  // namespace agentrt::tools
