#include "tools/http_tool.h"

#include <algorithm>

#include "tools/html_text.h"
#include "tools/tool_declaration.h"

namespace agentrt::tools {
namespace {

bool is_json_type(const std::string& type) {
  return type == "application/json" || (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
}

bool is_html_type(const std::string& type) {
  return type == "text/html" || type == "application/xhtml+xml";
}

bool is_text_type(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type == "application/xml" || type == "application/javascript" ||
         type == "application/x-www-form-urlencoded" || type == "application/yaml" ||
         (type.size() > 4 && type.compare(type.size() - 4, 4, "+xml") == 0);
}

std::string human_bytes(std::size_t n) {
  if (n < 10 * 1024) return std::to_string(n) + " bytes";
  if (n < 10 * 1024 * 1024) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n / (1024 * 1024)) + " MiB";
}

}  // namespace

bool looks_like_text(std::string_view body) {
  std::size_t i = 0;
  while (i < body.size()) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c == 0) return false;
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0) return false;
    if (i + static_cast<std::size_t>(extra) >= body.size() && extra > 0) return true;  // cut mid-character
    for (int k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(body[i + static_cast<std::size_t>(k)]) & 0xC0) != 0x80) return false;
    }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

std::string render_response_body(const FetchResponse& response, std::size_t max_chars) {
  const std::string& type = response.content_type;
  const std::string& body = response.body;
  std::string out;
  if (body.empty()) {
    out = "(empty body)";
  } else if (is_json_type(type) && !response.truncated) {
    Json parsed = Json::parse(body, nullptr, false);
    out = parsed.is_discarded() ? cut_to_budget(body, max_chars) : cut_to_budget(parsed.dump(2), max_chars);
  } else if (is_html_type(type) || (type.empty() && body.find("<html") != std::string::npos)) {
    HtmlText page = html_to_text(body, response.charset);
    std::string text = page.title.empty() ? page.text : "Title: " + page.title + "\n\n" + page.text;
    out = cut_to_budget(text, max_chars);
  } else if ((is_text_type(type) || is_json_type(type) || type.empty()) && looks_like_text(body)) {
    out = cut_to_budget(body, max_chars);
  } else if (looks_like_text(body) && type.rfind("image/", 0) != 0 && type.rfind("audio/", 0) != 0 &&
             type.rfind("video/", 0) != 0) {
    out = cut_to_budget(body, max_chars);
  } else {
    out = "(binary content: " + (type.empty() ? std::string("unknown type") : type) + ", " +
          human_bytes(body.size()) + "; not shown)";
  }
  if (response.truncated) {
    out += "\n[response stopped at the size limit of " + human_bytes(body.size()) + "]";
  }
  return out;
}

HttpTool::HttpTool(const Json& settings) : policy_(FetchPolicy::from_json(settings)) {
  if (settings.is_object() && settings.contains("max_chars")) {
    if (!settings["max_chars"].is_number_integer() || settings["max_chars"].get<long long>() <= 0) {
      throw std::invalid_argument("'max_chars' must be a positive integer");
    }
    max_chars_ = settings["max_chars"].get<std::size_t>();
  }
}

std::string HttpTool::description() const {
  return declaration_of("http").description;
}

Json HttpTool::parameters() const {
  return declaration_of("http").parameters;
}

agent::ToolResult HttpTool::run(const Json& arguments, const agent::ToolContext& ctx) {
  if (!arguments.is_object() || !arguments.contains("url") || !arguments["url"].is_string()) {
    return agent::ToolResult::failure("http: 'url' (a string) is required");
  }
  FetchRequest request;
  try {
    request.url = with_query(arguments["url"].get<std::string>(), arguments.value("query", Json::object()));
  } catch (const std::invalid_argument& e) {
    return agent::ToolResult::failure(std::string("http: ") + e.what());
  }
  if (arguments.contains("method")) {
    if (!arguments["method"].is_string())
      return agent::ToolResult::failure("http: 'method' must be a string");
    request.method = arguments["method"].get<std::string>();
  }
  bool has_content_type = false;
  if (arguments.contains("headers")) {
    if (!arguments["headers"].is_object())
      return agent::ToolResult::failure("http: 'headers' must be an object");
    for (const auto& [key, value] : arguments["headers"].items()) {
      std::string v = value.is_string() ? value.get<std::string>() : value.dump();
      if (key.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
        return agent::ToolResult::failure("http: header '" + key + "' contains a line break or colon");
      }
      std::string lower_key = key;
      std::transform(lower_key.begin(), lower_key.end(), lower_key.begin(), ::tolower);
      has_content_type = has_content_type || lower_key == "content-type";
      request.headers.emplace_back(key, v);
    }
  }
  if (arguments.contains("body") && !arguments["body"].is_null()) {
    const Json& body = arguments["body"];
    if (body.is_string()) {
      request.body = body.get<std::string>();
    } else {
      request.body = body.dump();
      if (!has_content_type) request.headers.emplace_back("Content-Type", "application/json");
    }
    if (!arguments.contains("method")) request.method = "POST";
  }

  try {
    FetchResponse response = safe_fetch(request, policy_, ctx.deadline);
    std::string text = "HTTP " + std::to_string(response.status);
    if (!response.content_type.empty()) text += " (" + response.content_type + ")";
    text += " from " + response.final_url;
    if (response.redirects > 0) text += " after " + std::to_string(response.redirects) + " redirect(s)";
    text += "\n\n" + render_response_body(response, max_chars_);
    Json headers = Json::object();
    for (const auto& [k, v] : response.headers) headers[k] = v;
    Json data = {{"status", response.status},
                 {"url", response.final_url},
                 {"content_type", response.content_type},
                 {"bytes", response.body.size()},
                 {"truncated", response.truncated},
                 {"headers", headers}};
    if (response.status >= 400) return agent::ToolResult::failure(text, data);
    return agent::ToolResult::success(text, data);
  } catch (const FetchError& e) {
    return agent::ToolResult::failure(std::string("http: ") + e.what());
  }
}

}  // namespace agentrt::tools
