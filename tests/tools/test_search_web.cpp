// Web search backends against local servers that answer in each API's shape (SearxNG JSON, Brave, Serper,
// Bing), including rejected keys, rate limiting, server errors and garbage.
#include <gtest/gtest.h>

#include <string>

#include "tests/tools/test_http_local_server.h"
#include "tools/search_tool.h"
#include "tools/web_search.h"

namespace agentrt::tools {
namespace {

using testing::LocalHttpServer;

const char* kKey = "test-key-123";

void rate_limited(httplib::Response& res, const std::string& body) {
  res.status = 429;
  res.set_header("Retry-After", "7");
  res.set_content(body, "application/json");
}

class WebBackends : public ::testing::Test {
 protected:
  WebBackends()
      : server_([](httplib::Server& s) {
          s.Get("/searxng/search", [](const httplib::Request& req, httplib::Response& res) {
            if (req.get_param_value("format") != "json") {
              res.status = 403;
              res.set_content("<html><body>Forbidden</body></html>", "text/html");
              return;
            }
            if (req.get_param_value("q") == "garbage") {
              res.set_content("<html>not json</html>", "application/json");
              return;
            }
            Json body = {{"query", req.get_param_value("q")},
                         {"number_of_results", 2},
                         {"results",
                          {{{"url", "https://example.com/a"},
                            {"title", "Alpha &amp; Omega"},
                            {"content", "First <b>result</b>"},
                            {"engine", "duckduckgo"},
                            {"score", 2.0}},
                           {{"url", "https://example.com/b"}, {"title", "Beta"}, {"content", "Second"}},
                           {{"title", "no url: dropped"}}}},
                         {"unresponsive_engines", Json::array()}};
            res.set_content(body.dump(), "application/json");
          });
          s.Get("/brave/res/v1/web/search", [](const httplib::Request& req, httplib::Response& res) {
            if (req.get_header_value("X-Subscription-Token") != kKey) {
              res.status = 401;
              res.set_content(
                  R"({"type":"ErrorResponse","error":{"id":"x","status":401,)"
                  R"("code":"SUBSCRIPTION_TOKEN_INVALID","detail":"The provided subscription token is invalid."}})",
                  "application/json");
              return;
            }
            if (req.get_param_value("q") == "often") {
              rate_limited(res, R"({"type":"ErrorResponse","error":{"status":429,"code":"RATE_LIMITED",)"
                                R"("detail":"Request rate limit exceeded for plan."}})");
              return;
            }
            Json results = Json::array();
            const int count = std::stoi(req.get_param_value("count"));
            for (int i = 0; i < count + 3; ++i) {
              results.push_back({{"title", "Brave " + std::to_string(i)},
                                 {"url", "https://brave.example/" + std::to_string(i)},
                                 {"description", "About <strong>" + req.get_param_value("q") + "</strong>"}});
            }
            Json body = {{"type", "search"},
                         {"query", {{"original", req.get_param_value("q")}}},
                         {"web", {{"type", "search"}, {"results", results}}}};
            res.set_content(body.dump(), "application/json");
          });
          s.Post("/serper/search", [](const httplib::Request& req, httplib::Response& res) {
            if (req.get_header_value("X-API-KEY") != kKey) {
              res.status = 403;
              res.set_content(R"({"message":"Unauthorized.","statusCode":403})", "application/json");
              return;
            }
            Json in = Json::parse(req.body);
            if (in["q"] == "boom") {
              res.status = 500;
              res.set_content(R"({"message":"Internal error, please retry","statusCode":500})",
                              "application/json");
              return;
            }
            Json body = {{"searchParameters", {{"q", in["q"]}, {"type", "search"}, {"num", in["num"]}}},
                         {"organic",
                          {{{"title", "Serper one"},
                            {"link", "https://serper.example/1"},
                            {"snippet", "one"},
                            {"position", 1}},
                           {{"title", "Serper two"},
                            {"link", "https://serper.example/2"},
                            {"snippet", "two"},
                            {"position", 2}}}}};
            res.set_content(body.dump(), "application/json");
          });
          s.Get("/bing/v7.0/search", [](const httplib::Request& req, httplib::Response& res) {
            if (req.get_header_value("Ocp-Apim-Subscription-Key") != kKey) {
              res.status = 401;
              res.set_content(
                  R"({"error":{"code":"401","message":"Access denied due to invalid subscription key."}})",
                  "application/json");
              return;
            }
            if (req.get_param_value("q") == "often") {
              rate_limited(
                  res,
                  R"({"error":{"code":"429","message":"Rate limit is exceeded. Try again in 7 seconds."}})");
              return;
            }
            if (req.get_param_value("q") == "nothing") {
              res.set_content(R"({"_type":"SearchResponse","queryContext":{"originalQuery":"nothing"}})",
                              "application/json");
              return;
            }
            Json body = {{"_type", "SearchResponse"},
                         {"webPages",
                          {{"totalEstimatedMatches", 1},
                           {"value",
                            {{{"name", "Bing result"},
                              {"url", "https://bing.example/x"},
                              {"snippet", "The snippet"}}}}}}};
            res.set_content(body.dump(), "application/json");
          });
        }) {}

  WebSearchConfig config(const std::string& backend, const std::string& path, const std::string& key = kKey) {
    Json settings = {{"backend", backend},
                     {"url", server_.url(path)},
                     {"key", key},
                     {"fetch", {{"allow_loopback", true}}}};
    auto c = WebSearchConfig::from(settings);
    EXPECT_TRUE(c.has_value());
    return *c;
  }

  std::string error_of(const WebSearchConfig& c, const std::string& query, WebSearchError::Kind kind) {
    try {
      web_search(c, query, 5);
    } catch (const WebSearchError& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error for " << query;
    return "";
  }

  LocalHttpServer server_;
};

TEST_F(WebBackends, SearxngResultsAreNormalised) {
  auto results = web_search(config("searxng", "/searxng", ""), "alpha", 5);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].title, "Alpha & Omega");
  EXPECT_EQ(results[0].url, "https://example.com/a");
  EXPECT_EQ(results[0].snippet, "First result");
  EXPECT_EQ(results[1].title, "Beta");
  EXPECT_NE(error_of(config("searxng", "/searxng"), "garbage", WebSearchError::Kind::Backend)
                .find("not a JSON object"),
            std::string::npos);
}

TEST_F(WebBackends, BraveHonoursTopKAndReportsKeyAndRateErrors) {
  auto results = web_search(config("brave", "/brave/res/v1/web/search"), "zebras", 3);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].url, "https://brave.example/2");
  EXPECT_EQ(results[0].snippet, "About zebras");
  std::string e =
      error_of(config("brave", "/brave/res/v1/web/search", "wrong"), "x", WebSearchError::Kind::KeyRejected);
  EXPECT_NE(e.find("web search (brave): the API key was rejected (HTTP 401): The provided subscription token "
                   "is invalid."),
            std::string::npos)
      << e;
  e = error_of(config("brave", "/brave/res/v1/web/search"), "often", WebSearchError::Kind::RateLimited);
  EXPECT_NE(e.find("rate limited (HTTP 429); retry after 7 s: Request rate limit exceeded for plan."),
            std::string::npos)
      << e;
}

TEST_F(WebBackends, SerperPostsJsonAndReportsErrors) {
  auto results = web_search(config("serper", "/serper/search"), "anything", 5);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].title, "Serper one");
  EXPECT_EQ(results[1].url, "https://serper.example/2");
  std::string e = error_of(config("serper", "/serper/search", "bad"), "x", WebSearchError::Kind::KeyRejected);
  EXPECT_NE(e.find("HTTP 403): Unauthorized."), std::string::npos) << e;
  e = error_of(config("serper", "/serper/search"), "boom", WebSearchError::Kind::Backend);
  EXPECT_NE(e.find("HTTP 500: Internal error, please retry"), std::string::npos) << e;
}

TEST_F(WebBackends, BingShapesAndErrors) {
  auto results = web_search(config("bing", "/bing/v7.0/search"), "x", 5);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].title, "Bing result");
  EXPECT_EQ(results[0].snippet, "The snippet");
  EXPECT_TRUE(web_search(config("bing", "/bing/v7.0/search"), "nothing", 5).empty());
  std::string e =
      error_of(config("bing", "/bing/v7.0/search", "bad"), "x", WebSearchError::Kind::KeyRejected);
  EXPECT_NE(e.find("Access denied due to invalid subscription key."), std::string::npos) << e;
  e = error_of(config("bing", "/bing/v7.0/search"), "often", WebSearchError::Kind::RateLimited);
  EXPECT_NE(e.find("Try again in 7 seconds."), std::string::npos) << e;
}

TEST_F(WebBackends, SearchToolUsesTheWebBackend) {
  Json settings = {{"index", "/nonexistent/index.db"},
                   {"web",
                    {{"backend", "bing"},
                     {"url", server_.url("/bing/v7.0/search")},
                     {"key", kKey},
                     {"fetch", {{"allow_loopback", true}}}}}};
  SearchTool tool(settings, "/tmp");
  agent::ToolContext ctx;
  auto r = tool.run({{"query", "x"}}, ctx);  // no local index: web is the default
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(
      r.data,
      Json::parse(R"([{"title":"Bing result","url":"https://bing.example/x","snippet":"The snippet"}])"));
  EXPECT_NE(r.text.find("from the web (bing)"), std::string::npos) << r.text;
  r = tool.run({{"query", "often"}, {"source", "web"}}, ctx);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("rate limited"), std::string::npos) << r.text;
}

TEST(WebSearchConfig, ChosenByEnvironmentAndValidated) {
  ::setenv("AGENTRT_WEB_SEARCH", "", 1);
  ::unsetenv("SEARXNG_URL");
  ::unsetenv("BRAVE_API_KEY");
  ::unsetenv("BING_API_KEY");
  ::setenv("SERPER_API_KEY", "from-env", 1);
  auto c = WebSearchConfig::from(Json::object());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->backend, "serper");
  EXPECT_EQ(c->key, "from-env");
  EXPECT_EQ(c->endpoint, "https://google.serper.dev/search");
  EXPECT_FALSE(c->policy.allow_loopback);
  ::unsetenv("SERPER_API_KEY");
  EXPECT_FALSE(WebSearchConfig::from(Json::object()).has_value());
  EXPECT_THROW(WebSearchConfig::from(Json{{"backend", "altavista"}}), std::invalid_argument);
  EXPECT_THROW(WebSearchConfig::from(Json{{"backend", "brave"}}), std::invalid_argument);    // no key
  EXPECT_THROW(WebSearchConfig::from(Json{{"backend", "searxng"}}), std::invalid_argument);  // no URL
  ::unsetenv("AGENTRT_WEB_SEARCH");
}

TEST(WebSearchConfig, EndpointsStillGoThroughTheSsrfPolicy) {
  auto c = WebSearchConfig::from(
      Json{{"backend", "brave"}, {"key", "k"}, {"url", "http://169.254.169.254/search"}});
  ASSERT_TRUE(c.has_value());
  try {
    web_search(*c, "x", 3);
    FAIL() << "the metadata address was reached";
  } catch (const WebSearchError& e) {
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace agentrt::tools
