#include "tools/open_url_tool.h"

#include "tools/html_text.h"
#include "tools/http_tool.h"
#include "tools/local_index.h"
#include "tools/tool_declaration.h"

namespace agentrt::tools {

OpenUrlTool::OpenUrlTool(const Json& settings, std::filesystem::path index_path)
    : policy_(FetchPolicy::from_json(settings)), index_path_(std::move(index_path)) {
  if (settings.is_object() && settings.contains("max_chars")) {
    if (!settings["max_chars"].is_number_integer() || settings["max_chars"].get<long long>() <= 0) {
      throw std::invalid_argument("'max_chars' must be a positive integer");
    }
    max_chars_ = settings["max_chars"].get<std::size_t>();
  }
}

std::string OpenUrlTool::description() const {
  return declaration_of("open_url").description;
}

Json OpenUrlTool::parameters() const {
  return declaration_of("open_url").parameters;
}

agent::ToolResult OpenUrlTool::open_local(const std::string& path) const {
  try {
    LocalIndex index(index_path_, /*create=*/false);
    auto doc = index.open(path);
    if (!doc) return agent::ToolResult::failure("open_url: 'local:" + path + "' is not in the local index");
    std::string text =
        "Title: " + doc->title + "\nURL: local:" + path + "\n\n" + cut_to_budget(doc->text, max_chars_);
    return agent::ToolResult::success(text, Json{{"url", "local:" + path}, {"title", doc->title}});
  } catch (const std::exception& e) {
    return agent::ToolResult::failure(std::string("open_url: ") + e.what());
  }
}

agent::ToolResult OpenUrlTool::run(const Json& arguments, const agent::ToolContext& ctx) {
  if (!arguments.is_object() || !arguments.contains("url") || !arguments["url"].is_string()) {
    return agent::ToolResult::failure("open_url: 'url' (a string) is required");
  }
  const std::string url = arguments["url"].get<std::string>();
  if (url.rfind("local:", 0) == 0) return open_local(url.substr(6));
  try {
    FetchResponse response = safe_fetch(
        {"GET", url, {{"Accept", "text/html, text/plain;q=0.9, */*;q=0.5"}}, {}}, policy_, ctx.deadline);
    std::string title;
    std::string body;
    if (response.content_type == "text/html" || response.content_type == "application/xhtml+xml") {
      HtmlText page = html_to_text(response.body, response.charset);
      title = page.title;
      body = cut_to_budget(page.text, max_chars_);
      if (response.truncated) body += "\n[page stopped at the size limit]";
    } else {
      body = render_response_body(response, max_chars_);
    }
    std::string text =
        (title.empty() ? "" : "Title: " + title + "\n") + "URL: " + response.final_url + "\n\n" + body;
    Json data = {{"url", response.final_url}, {"status", response.status}, {"title", title}};
    if (response.status >= 400) {
      return agent::ToolResult::failure("open_url: HTTP " + std::to_string(response.status) + "\n" + text,
                                        data);
    }
    return agent::ToolResult::success(text, data);
  } catch (const FetchError& e) {
    return agent::ToolResult::failure(std::string("open_url: ") + e.what());
  }
}

}  // namespace agentrt::tools
