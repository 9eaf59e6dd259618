// Web search backends (SearxNG's JSON API, Brave Search API, Serper for Google, Bing Web Search), chosen and
// keyed by configuration or the environment, all answering in one shape: [{title, url, snippet}]. Requests go
// through the safe fetch layer; API errors, rejected keys and rate limiting become WebSearchError with a
// clear message.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "agent/schema.h"
#include "tools/safe_fetch.h"

namespace agentrt::tools {

struct WebResult {
  std::string title;
  std::string url;
  std::string snippet;
};

struct WebSearchConfig {
  std::string backend;   // "searxng" | "brave" | "serper" | "bing"
  std::string endpoint;  // the API URL; every backend but SearxNG has a default
  std::string key;       // API key (SearxNG needs none)
  FetchPolicy policy;

  // From settings {"backend", "url", "key", "fetch": {FetchPolicy keys}}, completed from the environment:
  // AGENTRT_WEB_SEARCH (backend), SEARXNG_URL, BRAVE_API_KEY, SERPER_API_KEY, BING_API_KEY. Without a chosen
  // backend the first one with a URL or key wins. nullopt when none is configured; std::invalid_argument when
  // the settings are wrong (unknown backend, a key missing).
  static std::optional<WebSearchConfig> from(const Json& settings);
};

class WebSearchError : public std::runtime_error {
 public:
  enum class Kind { RateLimited, KeyRejected, Backend, Network };
  WebSearchError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// The known backends, in the order they are tried when none is chosen.
const std::vector<std::string>& web_search_backends();

std::vector<WebResult> web_search(
    const WebSearchConfig& config, std::string_view query, int top_k,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

// The results in a backend's response body, normalised (markup removed from titles and snippets).
std::vector<WebResult> parse_web_results(std::string_view backend, const Json& body, int top_k);

}  // namespace agentrt::tools
