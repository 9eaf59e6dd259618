// The `search` tool: finds documents in the local index (offline, the default when an index exists) or on the
// web through the configured backend, and lists them as numbered {title, url, snippet} entries the model can
// pass to open_url.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "agent/schema.h"
#include "tools/web_search.h"

namespace agentrt::tools {

// Where the local index lives for a session: settings "index", else $AGENTRT_SEARCH_INDEX, else the
// workspace's default (LocalIndex::default_db_path).
std::filesystem::path search_index_path(const Json& search_settings, const std::filesystem::path& workspace);

class SearchTool : public agent::Tool {
 public:
  // settings: {"index": path, "source": "local"|"web", "top_k": n, "web": {WebSearchConfig settings}}.
  SearchTool(const Json& settings, const std::filesystem::path& workspace);

  std::string name() const override { return "search"; }
  std::string description() const override;
  Json parameters() const override;
  agent::ToolResult run(const Json& arguments, const agent::ToolContext& ctx) override;

 private:
  agent::ToolResult search_local(const std::string& query, int top_k) const;
  agent::ToolResult search_web(const std::string& query, int top_k, const agent::ToolContext& ctx) const;

  std::filesystem::path index_path_;
  std::string default_source_;
  int default_top_k_ = 5;
  std::optional<WebSearchConfig> web_;
  std::string web_config_error_;
};

}  // namespace agentrt::tools
