#include "tools/search_tool.h"

#include <algorithm>
#include <cstdlib>

#include "tools/local_index.h"
#include "tools/tool_declaration.h"

namespace agentrt::tools {
namespace fs = std::filesystem;
namespace {

Json results_json(const std::vector<WebResult>& results) {
  Json out = Json::array();
  for (const auto& r : results) out.push_back({{"title", r.title}, {"url", r.url}, {"snippet", r.snippet}});
  return out;
}

std::string results_text(const std::vector<WebResult>& results, const std::string& query,
                         const std::string& where) {
  if (results.empty()) return "No results for \"" + query + "\" in " + where + ".";
  std::string text = "Results for \"" + query + "\" from " + where + ":";
  for (std::size_t i = 0; i < results.size(); ++i) {
    text +=
        "\n[" + std::to_string(i + 1) + "] " + (results[i].title.empty() ? "(untitled)" : results[i].title);
    text += "\n    url: " + results[i].url;
    if (!results[i].snippet.empty()) text += "\n    " + results[i].snippet;
  }
  return text;
}

}  // namespace

fs::path search_index_path(const Json& settings, const fs::path& workspace) {
  if (settings.is_object() && settings.contains("index") && settings["index"].is_string()) {
    fs::path p = settings["index"].get<std::string>();
    return p.is_absolute() ? p : workspace / p;
  }
  if (const char* from_env = std::getenv("AGENTRT_SEARCH_INDEX"); from_env && *from_env) return from_env;
  return LocalIndex::default_db_path(workspace);
}

SearchTool::SearchTool(const Json& settings_in, const fs::path& workspace) {
  const Json settings = settings_in.is_object() ? settings_in : Json::object();
  index_path_ = search_index_path(settings, workspace);
  if (settings.contains("source")) {
    default_source_ = settings["source"].is_string() ? settings["source"].get<std::string>() : "";
    if (default_source_ != "local" && default_source_ != "web") {
      throw std::invalid_argument("search: 'source' must be \"local\" or \"web\"");
    }
  }
  if (settings.contains("top_k")) {
    if (!settings["top_k"].is_number_integer())
      throw std::invalid_argument("search: 'top_k' must be an integer");
    default_top_k_ = std::clamp(settings["top_k"].get<int>(), 1, 20);
  }
  try {
    web_ = WebSearchConfig::from(settings.value("web", Json::object()));
  } catch (const std::invalid_argument& e) {
    web_config_error_ = e.what();
  }
}

std::string SearchTool::description() const {
  return declaration_of("search").description;
}

Json SearchTool::parameters() const {
  return declaration_of("search").parameters;
}

agent::ToolResult SearchTool::run(const Json& arguments, const agent::ToolContext& ctx) {
  if (!arguments.is_object() || !arguments.contains("query") || !arguments["query"].is_string() ||
      arguments["query"].get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos) {
    return agent::ToolResult::failure("search: 'query' (a non-empty string) is required");
  }
  const std::string query = arguments["query"].get<std::string>();
  int top_k = default_top_k_;
  if (arguments.contains("top_k")) {
    if (!arguments["top_k"].is_number_integer())
      return agent::ToolResult::failure("search: 'top_k' must be an integer");
    top_k = std::clamp(arguments["top_k"].get<int>(), 1, 20);
  }
  std::string source = default_source_;
  if (arguments.contains("source")) {
    source = arguments["source"].is_string() ? arguments["source"].get<std::string>() : "";
    if (source != "local" && source != "web") {
      return agent::ToolResult::failure("search: 'source' must be \"local\" or \"web\"");
    }
  }
  if (source.empty()) {
    if (fs::exists(index_path_)) {
      source = "local";
    } else if (web_) {
      source = "web";
    } else {
      return agent::ToolResult::failure(
          "search: no search source is set up: build a local index with `agentrt index DIR` or configure "
          "a web search backend (SEARXNG_URL, BRAVE_API_KEY, SERPER_API_KEY or BING_API_KEY)");
    }
  }
  return source == "local" ? search_local(query, top_k) : search_web(query, top_k, ctx);
}

agent::ToolResult SearchTool::search_local(const std::string& query, int top_k) const {
  try {
    LocalIndex index(index_path_, /*create=*/false);
    std::vector<WebResult> results;
    for (const auto& hit : index.search(query, top_k)) {
      results.push_back({hit.title, "local:" + hit.path, hit.snippet});
    }
    return agent::ToolResult::success(results_text(results, query, "the local index"), results_json(results));
  } catch (const std::exception& e) {
    return agent::ToolResult::failure(std::string("search: ") + e.what());
  }
}

agent::ToolResult SearchTool::search_web(const std::string& query, int top_k,
                                         const agent::ToolContext& ctx) const {
  if (!web_) {
    return agent::ToolResult::failure(
        "search: web search is not available: " +
        (web_config_error_.empty()
             ? std::string(
                   "no backend configured (SEARXNG_URL, BRAVE_API_KEY, SERPER_API_KEY or BING_API_KEY)")
             : web_config_error_));
  }
  try {
    auto results = web_search(*web_, query, top_k, ctx.deadline);
    return agent::ToolResult::success(results_text(results, query, "the web (" + web_->backend + ")"),
                                      results_json(results));
  } catch (const WebSearchError& e) {
    return agent::ToolResult::failure(std::string("search: ") + e.what());
  }
}

}  // namespace agentrt::tools
