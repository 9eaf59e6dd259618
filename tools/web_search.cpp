#include "tools/web_search.h"

#include <algorithm>
#include <cstdlib>

#include "tools/html_text.h"

namespace agentrt::tools {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

struct BackendInfo {
  const char* name;
  const char* default_endpoint;  // "" when the user must give one
  const char* key_env;           // "" when no key is needed
  const char* url_env;
};

const std::vector<BackendInfo>& infos() {
  static const std::vector<BackendInfo> table = {
      {"searxng", "", "", "SEARXNG_URL"},
      {"brave", "https://api.search.brave.com/res/v1/web/search", "BRAVE_API_KEY", "BRAVE_SEARCH_URL"},
      {"serper", "https://google.serper.dev/search", "SERPER_API_KEY", "SERPER_URL"},
      {"bing", "https://api.bing.microsoft.com/v7.0/search", "BING_API_KEY", "BING_SEARCH_URL"},
  };
  return table;
}

const BackendInfo* info_of(std::string_view name) {
  for (const auto& i : infos()) {
    if (name == i.name) return &i;
  }
  return nullptr;
}

// Titles and snippets sometimes carry markup (<strong>, &amp;): keep only the text.
std::string plain(const Json& value) {
  if (!value.is_string()) return {};
  const std::string s = value.get<std::string>();
  if (s.find_first_of("<&") == std::string::npos) return s;
  return html_to_text(s).text;
}

// The error message an API put in its body, in any of the shapes the four backends use.
std::string api_message(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (j.contains("error")) {
      const Json& e = j["error"];
      if (e.is_string()) return e.get<std::string>();
      if (e.is_object()) {
        for (const char* k : {"message", "detail", "code"}) {
          if (e.contains(k) && e[k].is_string()) return e[k].get<std::string>();
        }
      }
    }
    if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  }
  return cut_to_budget(html_to_text(body).text, 200);
}

}  // namespace

const std::vector<std::string>& web_search_backends() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& i : infos()) n.emplace_back(i.name);
    return n;
  }();
  return names;
}

std::optional<WebSearchConfig> WebSearchConfig::from(const Json& settings) {
  const Json s = settings.is_object() ? settings : Json::object();
  auto setting = [&](const char* key) {
    if (!s.contains(key)) return std::string();
    if (!s[key].is_string())
      throw std::invalid_argument(std::string("web search: '") + key + "' must be a string");
    return s[key].get<std::string>();
  };
  std::string backend = setting("backend");
  if (backend.empty()) backend = env("AGENTRT_WEB_SEARCH");
  if (backend.empty()) {
    for (const auto& i : infos()) {
      if ((i.key_env[0] && !env(i.key_env).empty()) ||
          (std::string_view(i.name) == "searxng" && !env(i.url_env).empty())) {
        backend = i.name;
        break;
      }
    }
  }
  if (backend.empty()) return std::nullopt;
  const BackendInfo* info = info_of(backend);
  if (info == nullptr) {
    throw std::invalid_argument("web search: unknown backend '" + backend +
                                "' (searxng, brave, serper or bing)");
  }
  WebSearchConfig c;
  c.backend = backend;
  c.endpoint = setting("url");
  if (c.endpoint.empty()) c.endpoint = env(info->url_env);
  if (c.endpoint.empty()) c.endpoint = info->default_endpoint;
  if (c.endpoint.empty())
    throw std::invalid_argument("web search: " + backend + " needs a URL (setting 'url' or $" +
                                info->url_env + ")");
  c.key = setting("key");
  if (c.key.empty() && info->key_env[0]) c.key = env(info->key_env);
  if (c.key.empty() && info->key_env[0]) {
    throw std::invalid_argument("web search: " + backend + " needs an API key (setting 'key' or $" +
                                info->key_env + ")");
  }
  c.policy = FetchPolicy::from_json(s.value("fetch", Json::object()));
  // A self-hosted SearxNG usually sits on the operator's network: its configured address may be private.
  if (backend == "searxng" && !(s.contains("fetch") && s["fetch"].contains("allow_private")))
    c.policy.allow_private = true;
  return c;
}

std::vector<WebResult> parse_web_results(std::string_view backend, const Json& body, int top_k) {
  const Json* list = nullptr;
  const char *title_key = "title", *url_key = "url", *snippet_key = "snippet";
  if (backend == "searxng") {
    if (body.contains("results")) list = &body["results"];
    snippet_key = "content";
  } else if (backend == "brave") {
    if (body.contains("web") && body["web"].contains("results")) list = &body["web"]["results"];
    snippet_key = "description";
  } else if (backend == "serper") {
    if (body.contains("organic")) list = &body["organic"];
    url_key = "link";
  } else if (backend == "bing") {
    if (body.contains("webPages") && body["webPages"].contains("value")) list = &body["webPages"]["value"];
    title_key = "name";
  } else {
    throw std::invalid_argument("unknown web search backend '" + std::string(backend) + "'");
  }
  std::vector<WebResult> out;
  if (list == nullptr || !list->is_array()) return out;
  for (const auto& item : *list) {
    if (static_cast<int>(out.size()) >= top_k) break;
    if (!item.is_object() || !item.contains(url_key) || !item[url_key].is_string()) continue;
    out.push_back({plain(item.value(title_key, Json())), item[url_key].get<std::string>(),
                   plain(item.value(snippet_key, Json()))});
  }
  return out;
}

std::vector<WebResult> web_search(const WebSearchConfig& config, std::string_view query_text, int top_k,
                                  std::chrono::steady_clock::time_point deadline) {
  top_k = std::clamp(top_k, 1, 20);
  const std::string query(query_text);
  const std::string who = "web search (" + config.backend + ")";
  FetchRequest request;
  request.headers.emplace_back("Accept", "application/json");
  try {
    if (config.backend == "searxng") {
      std::string base = config.endpoint;
      while (!base.empty() && base.back() == '/') base.pop_back();
      if (base.size() < 7 || base.compare(base.size() - 7, 7, "/search") != 0) base += "/search";
      request.url = with_query(base, {{"q", query}, {"format", "json"}});
    } else if (config.backend == "brave") {
      request.url = with_query(config.endpoint, {{"q", query}, {"count", top_k}});
      request.headers.emplace_back("X-Subscription-Token", config.key);
    } else if (config.backend == "serper") {
      request.method = "POST";
      request.url = config.endpoint;
      request.body = Json{{"q", query}, {"num", top_k}}.dump();
      request.headers.emplace_back("Content-Type", "application/json");
      request.headers.emplace_back("X-API-KEY", config.key);
    } else if (config.backend == "bing") {
      request.url = with_query(config.endpoint, {{"q", query}, {"count", top_k}});
      request.headers.emplace_back("Ocp-Apim-Subscription-Key", config.key);
    } else {
      throw WebSearchError(WebSearchError::Kind::Backend,
                           "unknown web search backend '" + config.backend + "'");
    }
  } catch (const std::invalid_argument& e) {
    throw WebSearchError(WebSearchError::Kind::Backend, who + ": bad endpoint: " + e.what());
  }

  FetchResponse response;
  try {
    response = safe_fetch(request, config.policy, deadline);
  } catch (const FetchError& e) {
    throw WebSearchError(WebSearchError::Kind::Network, who + ": " + e.what());
  }
  if (response.status == 429) {
    std::string retry = response.header("retry-after");
    throw WebSearchError(WebSearchError::Kind::RateLimited,
                         who + ": rate limited (HTTP 429)" +
                             (retry.empty() ? "" : "; retry after " + retry + " s") + ": " +
                             api_message(response.body));
  }
  if (response.status == 401 || response.status == 403) {
    throw WebSearchError(WebSearchError::Kind::KeyRejected, who + ": the API key was rejected (HTTP " +
                                                                std::to_string(response.status) +
                                                                "): " + api_message(response.body));
  }
  if (response.status >= 400) {
    throw WebSearchError(WebSearchError::Kind::Backend, who + ": HTTP " + std::to_string(response.status) +
                                                            ": " + api_message(response.body));
  }
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    throw WebSearchError(WebSearchError::Kind::Backend,
                         who + ": the answer is not a JSON object: " + cut_to_budget(response.body, 120));
  }
  return parse_web_results(config.backend, body, top_k);
}

}  // namespace agentrt::tools
