// The calculator as a plugin tool: {"expression": "..."} in, the value (or "error at column N: ...") out.
// The arithmetic itself lives in tools/calculator.h.
#pragma once

#include <string>

#include "agent/schema.h"

namespace agentrt::tools {

class CalculatorTool : public agent::Tool {
 public:
  std::string name() const override;
  std::string description() const override;
  Json parameters() const override;
  // Fast by construction (sizes are bounded before anything is computed).
  std::chrono::milliseconds default_timeout() const override { return std::chrono::seconds(5); }
  // Success: the value as text, with data {"result", "type": "integer"|"float"}. Failure: the error naming
  // the column, with data {"column", "error"}.
  agent::ToolResult run(const Json& arguments, const agent::ToolContext& ctx) override;
};

}  // namespace agentrt::tools
