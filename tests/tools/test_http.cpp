// The http tool against a local server: methods, headers, query parameters, JSON bodies, content-type aware
// results, redirects, timeouts, and the response size cap (plain and gzip-bomb responses).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/tools/test_http_local_server.h"
#include "tools/http_tool.h"
#include "tools/safe_fetch.h"

namespace agentrt::tools {
namespace {

using testing::LocalHttpServer;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class HttpToolTest : public ::testing::Test {
 protected:
  HttpToolTest()
      : server_([](httplib::Server& s) {
          s.Get("/json", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"name":"agentrt","tags":["a","b"],"n":3})", "application/json");
          });
          s.Get("/echo-query", [](const httplib::Request& req, httplib::Response& res) {
            res.set_content("q=" + req.get_param_value("q") + ";n=" + req.get_param_value("n") +
                                ";k=" + std::to_string(req.get_param_value_count("k")),
                            "text/plain");
          });
          auto echo = [](const httplib::Request& req, httplib::Response& res) {
            Json out = {{"method", req.method},
                        {"content_type", req.get_header_value("Content-Type")},
                        {"x_test", req.get_header_value("X-Test")},
                        {"body", req.body}};
            res.set_content(out.dump(), "application/json");
          };
          s.Post("/echo", echo);
          s.Put("/echo", echo);
          s.Patch("/echo", echo);
          s.Delete("/echo", echo);
          s.Get("/echo", echo);
          s.Get("/page", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(
                "<html><head><title>Fruit &amp; Co</title><script>var secret = 1;</script></head><body>"
                "<h1>Apples</h1><p>Apples are <b>red</b> or "
                "green.</p><ul><li>Fuji</li><li>Gala</li></ul></body></html>",
                "text/html; charset=utf-8");
          });
          s.Get("/png", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "image/png");
          });
          s.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
            res.status = 404;
            res.set_content(R"({"error":"no such thing"})", "application/json");
          });
          s.Get("/moved", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/json"); });
          s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
            std::this_thread::sleep_for(std::chrono::milliseconds(900));
            res.set_content("late", "text/plain");
          });
          s.Get("/large", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(8 * 1024 * 1024, 'a'), "text/plain");
          });
          s.Get("/bomb", [](const httplib::Request&, httplib::Response& res) {
            // 64 MiB of zeros, gzip-compressed to about 64 KiB.
            res.set_content(read_file(AGENTRT_SOURCE_DIR "/tests/tools/data/bomb-64MiB-zeros.gz"),
                            "application/octet-stream");  // not re-compressed by httplib
            res.set_header("Content-Encoding", "gzip");
          });
        }) {}

  agent::ToolResult call(const Json& args, Json settings = Json::object()) {
    settings["allow_loopback"] = true;
    HttpTool tool(settings);
    agent::ToolContext ctx;
    return tool.run(args, ctx);
  }

  LocalHttpServer server_;
};

TEST_F(HttpToolTest, JsonIsPrettyPrinted) {
  auto r = call({{"url", server_.url("/json")}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("HTTP 200 (application/json)"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("  \"name\": \"agentrt\",\n"), std::string::npos) << r.text;
  EXPECT_EQ(r.data["status"], 200);
  EXPECT_EQ(r.data["content_type"], "application/json");
}

TEST_F(HttpToolTest, QueryParametersAreEncoded) {
  auto r =
      call({{"url", server_.url("/echo-query")}, {"query", {{"q", "a b&c=d"}, {"n", 5}, {"k", {1, 2}}}}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("q=a b&c=d;n=5;k=2"), std::string::npos) << r.text;
}

TEST_F(HttpToolTest, MethodsHeadersAndJsonBodies) {
  auto r = call({{"url", server_.url("/echo")}, {"headers", {{"X-Test", "yes"}}}, {"body", {{"x", 1}}}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("\"method\": \"POST\""), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\"content_type\": \"application/json\""), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\"x_test\": \"yes\""), std::string::npos) << r.text;
  EXPECT_NE(r.text.find(R"("body": "{\"x\":1}")"), std::string::npos) << r.text;
  for (const char* method : {"put", "PATCH", "DELETE"}) {
    r = call({{"url", server_.url("/echo")}, {"method", method}, {"body", "plain text"}});
    ASSERT_TRUE(r.ok) << r.text;
    std::string upper(method);
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    EXPECT_NE(r.text.find("\"method\": \"" + upper + "\""), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("\"body\": \"plain text\""), std::string::npos) << r.text;
  }
  r = call({{"url", server_.url("/echo")}, {"method", "TRACE"}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("method 'TRACE' is not supported"), std::string::npos) << r.text;
}

TEST_F(HttpToolTest, HtmlBecomesText) {
  auto r = call({{"url", server_.url("/page")}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("Title: Fruit & Co"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("# Apples\n\nApples are red or green.\n\n- Fuji\n- Gala"), std::string::npos)
      << r.text;
  EXPECT_EQ(r.text.find("secret"), std::string::npos) << r.text;
}

TEST_F(HttpToolTest, BinaryIsDescribedNotDumped) {
  auto r = call({{"url", server_.url("/png")}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("(binary content: image/png, 16 bytes; not shown)"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("IHDR"), std::string::npos);
}

TEST_F(HttpToolTest, ErrorStatusIsAFailureWithTheBody) {
  auto r = call({{"url", server_.url("/missing")}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("HTTP 404"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("no such thing"), std::string::npos) << r.text;
}

TEST_F(HttpToolTest, RedirectsAreFollowed) {
  auto r = call({{"url", server_.url("/moved")}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find("after 1 redirect(s)"), std::string::npos) << r.text;
  EXPECT_EQ(r.data["url"], server_.url("/json"));
}

TEST_F(HttpToolTest, TimeoutIsAClearError) {
  const auto started = std::chrono::steady_clock::now();
  auto r = call({{"url", server_.url("/slow")}}, {{"timeout_ms", 300}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("timed out"), std::string::npos) << r.text;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(800));
}

TEST_F(HttpToolTest, LargeResponseStopsAtTheCap) {
  FetchPolicy policy;
  policy.allow_loopback = true;
  policy.max_bytes = 1024 * 1024;
  FetchResponse response = safe_fetch({"GET", server_.url("/large"), {}, std::nullopt}, policy);
  EXPECT_TRUE(response.truncated);
  EXPECT_EQ(response.body.size(), policy.max_bytes);
  auto r = call({{"url", server_.url("/large")}}, {{"max_bytes", 65536}, {"max_chars", 100}});
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_TRUE(r.data["truncated"].get<bool>());
  EXPECT_NE(r.text.find("[response stopped at the size limit of 64 KiB]"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("[... cut: showing the first 100 of 65536 characters]"), std::string::npos) << r.text;
}

TEST_F(HttpToolTest, CompressedBombStopsAtTheCap) {
  FetchPolicy policy;
  policy.allow_loopback = true;
  policy.max_bytes = 1024 * 1024;
  const auto started = std::chrono::steady_clock::now();
  FetchResponse response = safe_fetch({"GET", server_.url("/bomb"), {}, std::nullopt}, policy);
  EXPECT_TRUE(response.truncated);
  EXPECT_EQ(response.body.size(), policy.max_bytes);  // decoded bytes, not the 64 KiB on the wire
  EXPECT_EQ(response.body.find_first_not_of('\0'), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST_F(HttpToolTest, BadArgumentsGetClearErrors) {
  auto r = call({{"url", "not a url at all"}});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text.rfind("http: ", 0), 0u) << r.text;
  r = call({{"url", server_.url("/json")}, {"headers", {{"X-Bad", "a\r\nInjected: 1"}}}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("line break"), std::string::npos) << r.text;
  r = call({{"url", server_.url("/json")}, {"query", "q=1"}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.text.find("'query' must be an object"), std::string::npos) << r.text;
  EXPECT_THROW(HttpTool(Json{{"allow_loopback", "yes"}}), std::invalid_argument);
}

TEST(HttpToolSchema, DeclaresTheArchitectureParameters) {
  HttpTool tool;
  EXPECT_EQ(tool.name(), "http");
  Json p = tool.parameters();
  EXPECT_EQ(p["required"], Json::array({"url"}));
  for (const char* key : {"url", "method", "headers", "query", "body"})
    EXPECT_TRUE(p["properties"].contains(key));
}

}  // namespace
}  // namespace agentrt::tools
