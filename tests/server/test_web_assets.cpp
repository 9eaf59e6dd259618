// The web page is served from the binary: `/` and its script and style, with their media types.
#include <gtest/gtest.h>

#include "server_harness.h"

namespace agentrt::testing {
namespace {

TEST(WebPage, ServedFromTheBinary) {
  ScriptedServer s({});
  auto c = s.client();
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script src=\"/web/app.js\"></script>"), std::string::npos);
  EXPECT_NE(page->body.find("id=\"trace\""), std::string::npos);
  auto js = c.Get("/web/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("/v1/agent/runs"), std::string::npos);
  auto css = c.Get("/web/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(c.Get("/web/../server.cpp")->status, 404);
}

}  // namespace
}  // namespace agentrt::testing
