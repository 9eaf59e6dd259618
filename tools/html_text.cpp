#include "tools/html_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>

namespace agentrt::tools {
namespace {

bool is_one_of(const char* name, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return std::strcmp(name, n) == 0; });
}

// Accumulates text with collapsed whitespace and requested line breaks, so nested blocks do not pile up blank
// lines.
class TextBuilder {
 public:
  void text(std::string_view s, bool preformatted) {
    for (char c : s) {
      const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
      if (preformatted) {
        if (c == '\n') {
          out_ += '\n';
          pending_space_ = false;
          pending_newlines_ = 0;
        } else {
          flush();
          out_ += c;
        }
        continue;
      }
      if (space) {
        if (!out_.empty() && out_.back() != '\n') pending_space_ = true;
        continue;
      }
      flush();
      out_ += c;
    }
  }
  // At least `n` line breaks before the next text (1: new line, 2: blank line).
  void block_break(int n) {
    pending_newlines_ = std::max(pending_newlines_, n);
    pending_space_ = false;
  }
  // Starts a line with `prefix` ("- ", "## ").
  void line_prefix(std::string_view prefix) {
    block_break(1);
    flush();
    out_ += prefix;
  }
  void separator(std::string_view sep) {
    if (!out_.empty() && out_.back() != '\n' && pending_newlines_ == 0) {
      out_ += sep;
      pending_space_ = false;
    }
  }
  std::size_t size() const { return out_.size(); }
  std::string slice_from(std::size_t at) const { return out_.substr(std::min(at, out_.size())); }
  std::string finish() {
    while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' ')) out_.pop_back();
    return out_;
  }

 private:
  void flush() {
    if (pending_newlines_ > 0 && !out_.empty()) {
      int have = 0;
      for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n'; ++it) ++have;
      for (int i = have; i < pending_newlines_; ++i) out_ += '\n';
      pending_space_ = false;
    }
    pending_newlines_ = 0;
    if (pending_space_) out_ += ' ';
    pending_space_ = false;
  }

  std::string out_;
  bool pending_space_ = false;
  int pending_newlines_ = 0;
};

std::string attribute(xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

std::string collapse(std::string_view s) {
  TextBuilder b;
  b.text(s, false);
  return b.finish();
}

class Walker {
 public:
  explicit Walker(HtmlText& result) : result_(result) {}

  void walk(xmlNode* node) {
    for (xmlNode* n = node; n != nullptr; n = n->next) visit(n);
  }
  std::string finish() { return builder_.finish(); }

 private:
  void visit(xmlNode* node) {
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      if (node->content) builder_.text(reinterpret_cast<const char*>(node->content), pre_depth_ > 0);
      return;
    }
    if (node->type != XML_ELEMENT_NODE || node->name == nullptr) return;
    const char* name = reinterpret_cast<const char*>(node->name);

    if (is_one_of(name, {"title"})) {
      if (result_.title.empty()) {
        xmlChar* content = xmlNodeGetContent(node);
        if (content) {
          result_.title = collapse(reinterpret_cast<const char*>(content));
          xmlFree(content);
        }
      }
      return;
    }
    if (is_one_of(name, {"script", "style", "noscript", "template", "svg", "iframe", "object", "select",
                         "head", "button", "canvas", "math"})) {
      if (std::strcmp(name, "head") == 0) walk_title_only(node->children);
      return;
    }
    if (std::strcmp(name, "br") == 0) {
      builder_.block_break(1);
      return;
    }
    if (std::strcmp(name, "hr") == 0) {
      builder_.block_break(2);
      return;
    }
    if (std::strcmp(name, "img") == 0) {
      const std::string alt = collapse(attribute(node, "alt"));
      if (!alt.empty()) builder_.text(" [image: " + alt + "] ", false);
      return;
    }

    const bool heading = name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && name[2] == '\0';
    // A list inside a list item continues it line by line; a top-level list stands apart like a paragraph.
    const bool nested_list = list_depth_ > 0 && is_one_of(name, {"ul", "ol"});
    const bool paragraph =
        !nested_list && is_one_of(name, {"p", "pre", "blockquote", "table", "ul", "ol", "dl", "figure"});
    const bool block = is_one_of(
        name, {"div",     "section", "article", "header",     "footer", "nav",     "aside",    "main",
               "tr",      "dt",      "dd",      "figcaption", "form",   "address", "fieldset", "details",
               "summary", "caption", "tbody",   "thead",      "tfoot",  "body",    "html",     "center"});
    if (heading) {
      builder_.block_break(2);
      builder_.line_prefix(std::string(static_cast<std::size_t>(name[1] - '0'), '#') + " ");
    } else if (std::strcmp(name, "li") == 0) {
      builder_.line_prefix(std::string(2 * static_cast<std::size_t>(std::max(0, list_depth_ - 1)), ' ') +
                           "- ");
    } else if (is_one_of(name, {"td", "th"})) {
      builder_.separator(" | ");
    } else if (paragraph) {
      builder_.block_break(2);
    } else if (block) {
      builder_.block_break(1);
    }

    const bool list = is_one_of(name, {"ul", "ol"});
    const bool pre = std::strcmp(name, "pre") == 0;
    const bool link = std::strcmp(name, "a") == 0;
    list_depth_ += list ? 1 : 0;
    pre_depth_ += pre ? 1 : 0;
    const std::size_t link_start = builder_.size();
    walk(node->children);
    list_depth_ -= list ? 1 : 0;
    pre_depth_ -= pre ? 1 : 0;

    if (link) {
      const std::string href = attribute(node, "href");
      if (!href.empty()) result_.links.emplace_back(collapse(builder_.slice_from(link_start)), href);
    }
    if (heading || paragraph) {
      builder_.block_break(2);
    } else if (block || std::strcmp(name, "li") == 0) {
      builder_.block_break(1);
    }
  }

  void walk_title_only(xmlNode* node) {
    for (xmlNode* n = node; n != nullptr; n = n->next) {
      if (n->type == XML_ELEMENT_NODE && n->name &&
          std::strcmp(reinterpret_cast<const char*>(n->name), "title") == 0) {
        visit(n);
      }
    }
  }

  HtmlText& result_;
  TextBuilder builder_;
  int list_depth_ = 0;
  int pre_depth_ = 0;
};

struct DocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

}  // namespace

HtmlText html_to_text(std::string_view html, std::string_view charset) {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  HtmlText result;
  if (html.empty()) return result;
  const int size = static_cast<int>(std::min<std::size_t>(html.size(), INT_MAX));
  const std::string encoding(charset);
  std::unique_ptr<xmlDoc, DocDeleter> doc(
      htmlReadMemory(html.data(), size, nullptr, encoding.empty() ? nullptr : encoding.c_str(),
                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                         HTML_PARSE_COMPACT));
  if (!doc) return result;
  Walker walker(result);
  walker.walk(xmlDocGetRootElement(doc.get()));
  result.text = walker.finish();
  return result;
}

std::string cut_to_budget(std::string_view text, std::size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  std::size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += "\n[... cut: showing the first " + std::to_string(cut) + " of " + std::to_string(text.size()) +
         " characters]";
  return out;
}

}  // namespace agentrt::tools
