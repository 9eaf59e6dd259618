// Readable text from HTML, through libxml2's HTML parser (a real, error-recovering parser, not patterns): the
// text of the page with its block structure kept as lines, headings marked with '#', list items with '- ',
// table cells separated by " | ", and script/style/template content dropped. Used by open_url, http and the
// index.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentrt::tools {

struct HtmlText {
  std::string title;                                       // the <title>, whitespace collapsed
  std::string text;                                        // the readable body text, UTF-8
  std::vector<std::pair<std::string, std::string>> links;  // (link text, href as written)
};

// Parses `html` (any encoding libxml2 knows; `charset` from the HTTP header wins when given) into text.
HtmlText html_to_text(std::string_view html, std::string_view charset = "");

// `text` cut to at most `max_chars` bytes at a UTF-8 character boundary, with a line saying how much was cut.
std::string cut_to_budget(std::string_view text, std::size_t max_chars);

}  // namespace agentrt::tools
