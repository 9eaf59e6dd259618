// Server-side request forgery: every vector must be refused with a message that says why, before any byte
// reaches a private address. The policy under test is the default one (no loopback), except where a local
// server is needed to issue redirects: then only loopback is allowed and the redirect targets must still be
// refused.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/tools/test_http_local_server.h"
#include "tools/http_tool.h"
#include "tools/safe_fetch.h"

namespace agentrt::tools {
namespace {

using testing::LocalHttpServer;

struct Vector {
  const char* url;
  const char* why;  // a word the refusal must contain
};

FetchPolicy fast_policy() {
  FetchPolicy p;
  p.connect_timeout = std::chrono::milliseconds(1500);
  p.total_timeout = std::chrono::milliseconds(3000);
  return p;
}

std::string refusal_of(const std::string& url, const FetchPolicy& policy) {
  try {
    FetchRequest request;
    request.url = url;
    safe_fetch(request, policy);
  } catch (const FetchError& e) {
    if (e.kind() != FetchError::Kind::Refused) return std::string("not refused but failed: ") + e.what();
    return e.what();
  }
  return "not refused: the request went through";
}

const std::vector<Vector> kDirectVectors = {
    {"http://127.0.0.1/", "loopback"},
    {"http://localhost/", "loopback"},
    {"http://localhost./admin", "loopback"},
    {"http://2130706433/", "loopback"},  // decimal
    {"http://0177.0.0.1/", "loopback"},  // octal
    {"http://0x7f.0.0.1/", "loopback"},  // hex dotted
    {"http://0x7f000001/", "loopback"},  // hex
    {"http://127.1/", "loopback"},       // short form
    {"http://0/", "this network"},       // 0 → 0.0.0.0
    {"http://0.0.0.0:8080/", "this network"},
    {"http://[::1]/", "loopback"},
    {"http://[::ffff:127.0.0.1]/", "IPv4-mapped"},
    {"http://[::ffff:7f00:1]/", "IPv4-mapped"},
    {"http://[::]/", "unspecified"},
    {"http://10.0.0.1/", "private"},
    {"http://172.16.5.4/", "private"},
    {"http://192.168.0.1/", "private"},
    {"http://169.254.169.254/latest/meta-data/", "metadata"},
    {"http://[::ffff:169.254.169.254]/", "metadata"},
    {"http://[::ffff:a9fe:a9fe]/", "metadata"},
    {"http://metadata.google.internal/computeMetadata/v1/", "metadata"},
    {"http://100.64.0.1/", "CGNAT"},
    {"http://224.0.0.1/", "multicast"},
    {"http://240.0.0.1/", "reserved"},
    {"http://255.255.255.255/", "reserved"},
    {"http://[fe80::1]/", "link-local"},
    {"http://[fc00::1]/", "private"},
    {"http://[fd00:ec2::254]/", "private"},
    {"http://[ff02::1]/", "multicast"},
    {"http://[64:ff9b::a00:1]/", "NAT64"},
    {"http://[2002:a00:1::]/", "6to4"},
    {"http://user:secret@127.0.0.1:22/", "loopback"},
    {"file:///etc/passwd", "scheme"},
    {"gopher://127.0.0.1:70/_stats", "scheme"},
    {"dict://127.0.0.1:11211/stat", "scheme"},
    {"ftp://example.com/pub", "scheme"},
    {"ldap://127.0.0.1/", "scheme"},
};

TEST(Ssrf, DirectVectorsAreRefusedWithAReason) {
  const FetchPolicy policy = fast_policy();
  int refused = 0;
  for (const auto& v : kDirectVectors) {
    const auto started = std::chrono::steady_clock::now();
    const std::string message = refusal_of(v.url, policy);
    EXPECT_EQ(message.rfind("refused: ", 0), 0u) << v.url << " -> " << message;
    EXPECT_NE(message.find(v.why), std::string::npos) << v.url << " -> " << message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1)) << v.url;
    refused += message.rfind("refused: ", 0) == 0 ? 1 : 0;
  }
  EXPECT_GE(refused, 25);
}

TEST(Ssrf, NameResolvingToAPrivateAddressIsRefusedAtConnect) {
  FetchPolicy policy = fast_policy();
  policy.resolve = {"intranet.example.com:80:10.1.2.3", "db.example.com:443:[fd12::7]"};
  std::string message = refusal_of("http://intranet.example.com/", policy);
  EXPECT_NE(message.find("10.1.2.3 is private"), std::string::npos) << message;
  message = refusal_of("https://db.example.com/", policy);
  EXPECT_NE(message.find("private"), std::string::npos) << message;
}

TEST(Ssrf, LoopbackIsRefusedByDefaultEvenForARealServer) {
  LocalHttpServer server([](httplib::Server& s) {
    s.Get("/",
          [](const httplib::Request&, httplib::Response& res) { res.set_content("secret", "text/plain"); });
  });
  EXPECT_FALSE(FetchPolicy{}.allow_loopback);
  EXPECT_FALSE(FetchPolicy{}.allow_private);
  const std::string message = refusal_of(server.url("/"), fast_policy());
  EXPECT_NE(message.find("127.0.0.1 is loopback"), std::string::npos) << message;
}

TEST(Ssrf, ProxiesFromTheEnvironmentAreIgnored) {
  LocalHttpServer server([](httplib::Server& s) {
    s.Get("/",
          [](const httplib::Request&, httplib::Response& res) { res.set_content("direct", "text/plain"); });
  });
  // Were these honoured, the request would go to 10.0.0.1 and be refused (or hang); it must go straight
  // there.
  for (const char* var : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"})
    ::setenv(var, "http://10.0.0.1:3128", 1);
  FetchPolicy policy = fast_policy();
  policy.allow_loopback = true;
  FetchResponse response = safe_fetch({"GET", server.url("/"), {}, std::nullopt}, policy);
  for (const char* var : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}) ::unsetenv(var);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "direct");
}

class SsrfRedirects : public ::testing::Test {
 protected:
  SsrfRedirects()
      : server_([](httplib::Server& s) {
          auto redirect = [&s](const char* from, std::string to, int status = 302) {
            s.Get(from, [to, status](const httplib::Request&, httplib::Response& res) {
              res.status = status;
              res.set_header("Location", to);
            });
          };
          redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/iam/");
          redirect("/to-private", "http://10.0.0.1/admin", 301);
          redirect("/to-file", "file:///etc/passwd");
          redirect("/to-gopher", "gopher://127.0.0.1:6379/_FLUSHALL");
          redirect("/to-dict", "dict://127.0.0.1:11211/stat", 307);
          redirect("/to-name", "http://evil.example.com/");
          redirect("/chain/3", "/chain/2");
          redirect("/chain/2", "/chain/1", 308);
          redirect("/chain/1", "http://[::ffff:10.0.0.1]/", 303);
          s.Get(R"(/loop/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
            res.status = 302;
            res.set_header("Location", "/loop/" + std::to_string(std::stoi(req.matches[1]) + 1));
          });
        }) {
    policy_ = fast_policy();
    policy_.allow_loopback = true;  // only to reach the redirecting server
    policy_.resolve = {"evil.example.com:80:192.168.1.1"};
  }
  LocalHttpServer server_;
  FetchPolicy policy_;
};

TEST_F(SsrfRedirects, RedirectTargetsAreCheckedOnEveryHop) {
  const std::vector<Vector> vectors = {
      {"/to-metadata", "metadata"},     {"/to-private", "10.0.0.1 is private"},
      {"/to-file", "scheme 'file://'"}, {"/to-gopher", "scheme 'gopher://'"},
      {"/to-dict", "scheme 'dict://'"}, {"/to-name", "192.168.1.1 is private"},
      {"/chain/3", "IPv4-mapped"},
  };
  for (const auto& v : vectors) {
    const std::string message = refusal_of(server_.url(v.url), policy_);
    EXPECT_EQ(message.rfind("refused: ", 0), 0u) << v.url << " -> " << message;
    EXPECT_NE(message.find(v.why), std::string::npos) << v.url << " -> " << message;
  }
}

TEST_F(SsrfRedirects, AtMostFiveRedirects) {
  FetchRequest request;
  request.url = server_.url("/loop/0");
  try {
    safe_fetch(request, policy_);
    FAIL() << "an endless redirect chain was followed to the end";
  } catch (const FetchError& e) {
    EXPECT_EQ(e.kind(), FetchError::Kind::TooManyRedirects);
    EXPECT_NE(std::string(e.what()).find("after 5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/loop/5"), std::string::npos) << e.what();
  }
}

TEST(Ssrf, HostAllowAndDenyLists) {
  FetchPolicy policy = fast_policy();
  policy.deny_hosts = {"example.org"};
  EXPECT_NE(refusal_of("http://api.example.org/v1", policy).find("deny list"), std::string::npos);
  EXPECT_NE(refusal_of("http://EXAMPLE.org./", policy).find("deny list"), std::string::npos);
  policy.deny_hosts.clear();
  policy.allow_hosts = {"example.com"};
  EXPECT_NE(refusal_of("http://example.net/", policy).find("not on the allow list"), std::string::npos);
  EXPECT_NE(refusal_of("http://notexample.com/", policy).find("not on the allow list"), std::string::npos);
  EXPECT_EQ(blocked_url_reason("https://docs.example.com/x", policy), std::nullopt);
}

TEST(Ssrf, AddressClassification) {
  const FetchPolicy strict;
  for (const char* ok : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8",
                         "64:ff9b::808:808", "2002:808:808::1"}) {
    EXPECT_EQ(blocked_address_reason(ok, strict), std::nullopt) << ok;
  }
  for (const char* bad :
       {"127.0.0.1", "10.255.255.255", "172.31.0.1", "192.168.255.1", "169.254.0.1", "0.0.0.0",
        "100.127.255.255", "198.18.0.1", "::1", "::", "::127.0.0.1", "fe80::1", "fdff::1", "ff00::1",
        "2001:db8::1", "2001::1", "64:ff9b:1::1", "100::1", "::ffff:192.168.0.1"}) {
    EXPECT_NE(blocked_address_reason(bad, strict), std::nullopt) << bad;
  }
  FetchPolicy loopback_ok;
  loopback_ok.allow_loopback = true;
  EXPECT_EQ(blocked_address_reason("127.0.0.1", loopback_ok), std::nullopt);
  EXPECT_EQ(blocked_address_reason("::1", loopback_ok), std::nullopt);
  EXPECT_NE(blocked_address_reason("10.0.0.1", loopback_ok), std::nullopt);
  EXPECT_NE(blocked_address_reason("169.254.169.254", loopback_ok), std::nullopt);
  FetchPolicy private_ok;
  private_ok.allow_private = true;
  EXPECT_EQ(blocked_address_reason("192.168.1.10", private_ok), std::nullopt);
  EXPECT_NE(blocked_address_reason("169.254.169.254", private_ok), std::nullopt);
  EXPECT_THROW(blocked_address_reason("not-an-ip", strict), std::invalid_argument);
}

TEST(Ssrf, HttpToolReportsTheRefusalToTheModel) {
  HttpTool tool;  // default settings: no loopback
  agent::ToolContext ctx;
  for (const char* url :
       {"http://169.254.169.254/latest/meta-data/", "file:///etc/shadow", "http://[::1]:8080/"}) {
    agent::ToolResult result = tool.run(Json{{"url", url}}, ctx);
    EXPECT_FALSE(result.ok) << url;
    EXPECT_EQ(result.text.rfind("http: refused: ", 0), 0u) << result.text;
  }
}

}  // namespace
}  // namespace agentrt::tools
