// The `open_url` tool: the readable text of a web page (fetched through the safe fetch layer, HTML turned
// into text) or of a local search result ("local:<path>", read from the index), cut to a budget with a clear
// marker.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "agent/schema.h"
#include "tools/safe_fetch.h"

namespace agentrt::tools {

class OpenUrlTool : public agent::Tool {
 public:
  // settings: the FetchPolicy keys plus "max_chars" (default 6000); `index_path`: the local search index.
  OpenUrlTool(const Json& settings, std::filesystem::path index_path);

  std::string name() const override { return "open_url"; }
  std::string description() const override;
  Json parameters() const override;
  agent::ToolResult run(const Json& arguments, const agent::ToolContext& ctx) override;

 private:
  agent::ToolResult open_local(const std::string& path) const;

  FetchPolicy policy_;
  std::size_t max_chars_ = 6000;
  std::filesystem::path index_path_;
};

}  // namespace agentrt::tools
