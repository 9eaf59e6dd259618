// The browser cannot drive the server: every request a web page on another origin can make (a "simple"
// text/plain POST, a POST with a foreign Origin, a no-Origin cross-site GET, a DNS-rebound Host) gets a 403
// and creates nothing, while the server's own page, non-browser clients, and the hosts and origins allowed
// on the command line go through (with CORS answers for allowed origins).
#include <gtest/gtest.h>

#include "apps/server/request_guard.h"
#include "server_harness.h"

namespace agentrt::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

httplib::Result send(httplib::Client& c, const std::string& method, const std::string& path,
                     const std::string& body, const std::string& content_type, const Headers& headers) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.body = body;
  if (!content_type.empty()) req.set_header("Content-Type", content_type);
  for (const auto& [k, v] : headers) req.set_header(k, v);
  return c.send(req);
}

void expect_forbidden(const httplib::Result& res, const std::string& code) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  const Json body = Json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.is_object() && body.contains("error")) << res->body;
  EXPECT_EQ(body["error"]["code"], code) << res->body;
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
}

size_t session_count(httplib::Client& c) {
  return get_json(c, "/v1/sessions")["data"].size();
}

const std::string kRunBody = Json{{"task", "delete everything"}}.dump();
const std::string kSessionBody = Json{{"title", "made by another page"}}.dump();

TEST(BrowserGuard, SimpleTextPlainPostsCreateNothing) {
  ScriptedServer s({"Should never be asked."});
  auto c = s.client();
  const std::string evil = "http://evil.example";
  for (const std::string path : {"/v1/sessions", "/v1/agent/runs"}) {
    const std::string& body = path == "/v1/sessions" ? kSessionBody : kRunBody;
    // What a page's fetch(..., {mode: "no-cors"}) or a form sends: a simple request with its Origin.
    expect_forbidden(send(c, "POST", path, body, "text/plain;charset=UTF-8",
                          {{"Origin", evil}, {"Sec-Fetch-Site", "cross-site"}}),
                     "forbidden_origin");
    expect_forbidden(send(c, "POST", path, body, "application/x-www-form-urlencoded", {{"Origin", evil}}),
                     "forbidden_origin");
    expect_forbidden(send(c, "POST", path, body, "multipart/form-data; boundary=x", {{"Origin", evil}}),
                     "forbidden_origin");
    // The same without an Origin header (an old browser, a proxy that strips it): still not JSON.
    expect_forbidden(send(c, "POST", path, body, "text/plain", {}), "unsupported_content_type");
    expect_forbidden(send(c, "POST", path, body, "", {}), "unsupported_content_type");
  }
  // An empty POST /v1/sessions made a session before; a body-less no-cors fetch is no longer enough.
  expect_forbidden(send(c, "POST", "/v1/sessions", "", "", {}), "unsupported_content_type");
  EXPECT_EQ(session_count(c), 0u);
  EXPECT_TRUE(s.backend->prompts().empty());
}

TEST(BrowserGuard, ForeignOriginIsRefusedEvenWithJson) {
  ScriptedServer s({"Should never be asked."});
  auto c = s.client();
  for (const std::string& origin :
       std::vector<std::string>{"http://evil.example", "null", "http://localhost:1",
                                "http://127.0.0.1:" + std::to_string(s.server->port() + 1)}) {
    expect_forbidden(send(c, "POST", "/v1/agent/runs", kRunBody, "application/json", {{"Origin", origin}}),
                     "forbidden_origin");
    expect_forbidden(send(c, "GET", "/v1/sessions", "", "", {{"Origin", origin}}), "forbidden_origin");
  }
  // A cross-site GET without an Origin (an <img> or <script> of another site) cannot read the API either.
  expect_forbidden(send(c, "GET", "/v1/sessions", "", "", {{"Sec-Fetch-Site", "cross-site"}}),
                   "forbidden_origin");
  expect_forbidden(send(c, "GET", "/v1/sessions", "", "",
                        {{"Sec-Fetch-Site", "same-site"}, {"Sec-Fetch-Mode", "no-cors"}}),
                   "forbidden_origin");
  EXPECT_EQ(session_count(c), 0u);
  EXPECT_TRUE(s.backend->prompts().empty());
  // A link from another site to the page still opens it.
  auto page = send(c, "GET", "/", "", "", {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "navigate"}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

TEST(BrowserGuard, ForeignHostIsRefused) {
  ScriptedServer s({"Should never be asked."});
  auto c = s.client();
  const std::string port = std::to_string(s.server->port());
  // DNS rebinding: the attacker's name now points at 127.0.0.1, and the page is same-origin with it.
  const std::string host = "rebind.attacker.example:" + port;
  const std::string origin = "http://" + host;
  for (const std::string path : {"/", "/health", "/metrics", "/v1/sessions", "/v1/models"}) {
    expect_forbidden(send(c, "GET", path, "", "", {{"Host", host}}), "forbidden_host");
  }
  expect_forbidden(
      send(c, "POST", "/v1/sessions", kSessionBody, "application/json", {{"Host", host}, {"Origin", origin}}),
      "forbidden_host");
  expect_forbidden(send(c, "POST", "/v1/agent/runs", kRunBody, "application/json", {{"Host", host}}),
                   "forbidden_host");
  EXPECT_EQ(session_count(c), 0u);
  EXPECT_TRUE(s.backend->prompts().empty());
}

TEST(BrowserGuard, OwnPageLocalNamesAndNonBrowserClientsGoThrough) {
  ScriptedServer s({"Done."});
  auto c = s.client();
  const std::string port = std::to_string(s.server->port());
  // The page's own origin, under each name the machine has for itself.
  for (const std::string& host : {"127.0.0.1:" + port, "localhost:" + port, "LocalHost.:" + port,
                                  "app.localhost:" + port, "[::1]:" + port}) {
    auto res = send(c, "POST", "/v1/sessions", kSessionBody, "application/json; charset=utf-8",
                    {{"Host", host}, {"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-origin"}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 201) << host << ": " << res->body;
  }
  // A client that is no browser sends neither Origin nor Sec-Fetch-*.
  int status = 0;
  post_json(c, "/v1/agent/runs", Json{{"task", "hi"}, {"stream", false}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(session_count(c), 6u);
}

TEST(BrowserGuard, AllowedHostsAndOriginsFromTheCommandLine) {
  server::ServerOptions o;
  o.allowed_hosts = {"agent.lan", ".corp.example"};
  o.allowed_origins = {"https://app.example.org"};
  ScriptedServer s({"Done."}, o);
  auto c = s.client();
  for (const std::string host : {"agent.lan:8000", "corp.example", "box.corp.example:1"}) {
    auto res = send(c, "GET", "/v1/sessions", "", "", {{"Host", host}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << host;
  }
  expect_forbidden(send(c, "GET", "/v1/sessions", "", "", {{"Host", "evilcorp.example"}}), "forbidden_host");

  // The allowed origin: its preflight passes and its answers carry CORS headers.
  const Headers from_app = {{"Origin", "https://app.example.org"}};
  Headers preflight = from_app;
  preflight.push_back({"Access-Control-Request-Method", "POST"});
  preflight.push_back({"Access-Control-Request-Headers", "content-type, authorization"});
  auto pre = send(c, "OPTIONS", "/v1/sessions", "", "", preflight);
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://app.example.org");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Content-Type"), std::string::npos);
  auto made = send(c, "POST", "/v1/sessions", kSessionBody, "application/json", from_app);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->status, 201) << made->body;
  EXPECT_EQ(made->get_header_value("Access-Control-Allow-Origin"), "https://app.example.org");
  // Even an allowed origin posts JSON only.
  expect_forbidden(send(c, "POST", "/v1/sessions", kSessionBody, "text/plain", from_app),
                   "unsupported_content_type");
  // Another origin's preflight is refused.
  expect_forbidden(send(c, "OPTIONS", "/v1/sessions", "", "",
                        {{"Origin", "https://other.example.org"}, {"Access-Control-Request-Method", "POST"}}),
                   "forbidden_origin");
  EXPECT_EQ(session_count(c), 1u);
}

TEST(BrowserGuard, UploadsStayMultipartOnly) {
  ScriptedServer s({});
  auto c = s.client();
  int status = 0;
  const Json session = post_json(c, "/v1/sessions", Json::object(), &status);
  ASSERT_EQ(status, 201);
  const std::string path = "/v1/sessions/" + session["id"].get<std::string>() + "/files";
  httplib::MultipartFormDataItems items = {{"file", "a,b\n1,2\n", "data.csv", "text/csv"}};
  auto ok = c.Post(path.c_str(), items);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  expect_forbidden(send(c, "POST", path, "{}", "application/json", {}), "unsupported_content_type");
  // A form on another page posting a file: refused for its origin.
  httplib::Headers foreign = {{"Origin", "http://evil.example"}};
  auto evil = c.Post(path.c_str(), foreign, items);
  expect_forbidden(evil, "forbidden_origin");
}

TEST(RequestGuard, HostNames) {
  server::RequestGuard g({"0.0.0.0", {"my-box"}, {}});
  for (const char* host : {"localhost", "localhost:80", "LOCALHOST.", "x.localhost:9", "127.0.0.1:8000",
                           "10.1.2.3", "[::1]:8000", "[fe80::1]", "0.0.0.0:8000", "my-box:8000", "MY-BOX"}) {
    EXPECT_TRUE(g.host_allowed(host)) << host;
  }
  for (const char* host :
       {"", "evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "my-box.evil", "evillocalhost"}) {
    EXPECT_FALSE(g.host_allowed(host)) << host;
  }
  server::RequestGuard any({"127.0.0.1", {"*"}, {}});
  EXPECT_TRUE(any.host_allowed("anything.example"));
}

TEST(RequestGuard, Origins) {
  server::RequestGuard g({"127.0.0.1", {}, {"https://app.example.org", "http://localhost:3000/"}});
  EXPECT_TRUE(g.origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000"));
  EXPECT_TRUE(g.origin_allowed("http://LOCALHOST:8000", "localhost:8000"));
  EXPECT_TRUE(g.origin_allowed("https://app.example.org", "127.0.0.1:8000"));
  EXPECT_TRUE(g.origin_allowed("http://localhost:3000", "127.0.0.1:8000"));
  EXPECT_FALSE(g.origin_allowed("http://localhost:3001", "127.0.0.1:8000"));
  EXPECT_FALSE(g.origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000"));
  EXPECT_FALSE(g.origin_allowed("null", "127.0.0.1:8000"));
  EXPECT_FALSE(g.origin_allowed("file://", "127.0.0.1:8000"));
  EXPECT_TRUE(g.cors_origin("https://app.example.org"));
  EXPECT_FALSE(g.cors_origin("http://127.0.0.1:8000"));
  EXPECT_EQ(server::media_type(" Application/JSON ; charset=utf-8"), "application/json");
}

}  // namespace
}  // namespace agentrt::testing
