// HTML to text through libxml2's parser: structure kept as lines, invisible content dropped, broken markup
// and other encodings handled, and the budget cut on a character boundary.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <string>

#include "tools/html_text.h"
#include "tools/http_tool.h"

namespace agentrt::tools {
namespace {

TEST(HtmlText, KeepsStructureAsLines) {
  HtmlText page = html_to_text(
      "<html><head><title>  The   Title </title><style>p{color:red}</style></head><body>"
      "<nav><a href='/'>Home</a></nav><h2>Section</h2><p>One <i>two</i>\n  three.</p>"
      "<ul><li>a<ul><li>nested</li></ul></li><li>b</li></ul>"
      "<table><tr><th>k</th><th>v</th></tr><tr><td>x</td><td>1</td></tr></table>"
      "<pre>line 1\n  indented</pre>first<br>second<p><img src='x.png' alt='A chart'></p></body></html>");
  EXPECT_EQ(page.title, "The Title");
  EXPECT_EQ(
      page.text,
      "Home\n\n## Section\n\nOne two three.\n\n- a\n  - nested\n- b\n\nk | v\nx | 1\n\nline 1\n  indented\n\n"
      "first\nsecond\n\n[image: A chart]");
  ASSERT_EQ(page.links.size(), 1u);
  EXPECT_EQ(page.links[0], std::make_pair(std::string("Home"), std::string("/")));
}

TEST(HtmlText, DropsInvisibleContentAndDecodesEntities) {
  HtmlText page = html_to_text(
      "<body><script>alert('x')</script><noscript>enable js</noscript><template><p>hidden</p></template>"
      "<p>caf&eacute; &lt;tag&gt; &amp; &#x263A;</p><svg><text>vector</text></svg></body>");
  EXPECT_EQ(page.text, "café <tag> & ☺");
}

TEST(HtmlText, SurvivesBrokenMarkupAndOtherEncodings) {
  EXPECT_EQ(html_to_text("<p>unclosed <b>bold <div>block</p></span>").text, "unclosed bold\nblock");
  EXPECT_EQ(html_to_text("").text, "");
  EXPECT_EQ(html_to_text("just text, no tags").text, "just text, no tags");
  const std::string latin1 =
      "<html><head><meta charset=\"iso-8859-1\"></head><body><p>na\xEFve</p></body></html>";
  EXPECT_EQ(html_to_text(latin1).text, "naïve");
  EXPECT_EQ(html_to_text("<p>na\xEFve</p>", "iso-8859-1").text, "naïve");
}

TEST(HtmlText, ArbitraryBytesNeverCrash) {
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 24;
  };
  const std::string pieces[] = {"<",  ">", "</",   "<p>",         "<script>",  "</script>", "&",
                                "&#", ";", "<!--", "-->",         "<![CDATA[", "]]>",       "\"",
                                "'",  "=", "<li>", "<table><td>", "\xff",      "\xc3",      " "};
  for (int doc = 0; doc < 300; ++doc) {
    std::string html;
    const int parts = static_cast<int>(next() % 60);
    for (int i = 0; i < parts; ++i) {
      html += next() % 2 ? pieces[next() % std::size(pieces)] : std::string(1, static_cast<char>(next()));
    }
    HtmlText page = html_to_text(html);
    EXPECT_LE(page.text.size(), html.size() * 4 + 64);
  }
}

TEST(HtmlText, CutToBudgetKeepsCharactersWhole) {
  EXPECT_EQ(cut_to_budget("short", 10), "short");
  const std::string text = "ééééé";  // 10 bytes
  std::string cut = cut_to_budget(text, 5);
  EXPECT_EQ(cut.rfind("éé\n", 0), 0u) << cut;
  EXPECT_NE(cut.find("[... cut: showing the first 4 of 10 characters]"), std::string::npos) << cut;
}

TEST(ResponseRendering, ContentTypeDecidesTheShape) {
  FetchResponse r;
  r.content_type = "application/problem+json";
  r.body = R"({"title":"bad"})";
  EXPECT_EQ(render_response_body(r, 100), "{\n  \"title\": \"bad\"\n}");
  r.content_type = "text/csv";
  r.body = "a,b\n1,2\n";
  EXPECT_EQ(render_response_body(r, 100), "a,b\n1,2\n");
  r.content_type = "application/octet-stream";
  r.body = std::string("\x00\x01\x02\xff", 4);
  EXPECT_EQ(render_response_body(r, 100), "(binary content: application/octet-stream, 4 bytes; not shown)");
  r.body.clear();
  EXPECT_EQ(render_response_body(r, 100), "(empty body)");
  EXPECT_TRUE(looks_like_text("plain ascii and ünïcödé"));
  EXPECT_FALSE(looks_like_text(std::string("nul\0byte", 8)));
  EXPECT_FALSE(looks_like_text("\xC3\x28"));
}

}  // namespace
}  // namespace agentrt::tools
