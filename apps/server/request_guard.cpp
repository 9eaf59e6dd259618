#include "apps/server/request_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace agentrt::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The host name of a Host header or of an origin's authority: "[::1]:8000" → "::1", "Example.org:80" →
// "example.org".
std::string host_name(std::string_view authority) {
  authority = trim(authority);
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return lower(authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(':') == colon) authority = authority.substr(0, colon);
  std::string name = lower(authority);
  if (!name.empty() && name.back() == '.') name.pop_back();  // "localhost." is localhost
  return name;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

bool is_localhost_name(const std::string& name) {
  return name == "localhost" || (name.size() > 10 && name.ends_with(".localhost"));
}

bool matches_host_entry(const std::string& name, std::string_view entry) {
  const std::string e = host_name(entry);
  if (e == "*") return true;
  if (!e.empty() && e.front() == '.') return name == e.substr(1) || name.ends_with(e);
  return name == e;
}

// "HTTP://Example.org:8000/" → "http://example.org:8000" (an origin never has a path; tolerate a slash).
std::string normalized_origin(std::string_view origin) {
  std::string o = lower(trim(origin));
  while (!o.empty() && o.back() == '/') o.pop_back();
  return o;
}

ApiError forbidden(const std::string& message, const std::string& code) {
  return ApiError(403, message, "invalid_request_error", "", code);
}

}  // namespace

std::string media_type(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  return lower(trim(content_type.substr(0, semicolon)));
}

RequestGuard::RequestGuard(RequestGuardOptions options) : options_(std::move(options)) {}

bool RequestGuard::host_allowed(std::string_view host_header) const {
  const std::string name = host_name(host_header);
  if (name.empty()) return false;
  if (is_localhost_name(name) || is_ip_literal(name)) return true;
  if (name == host_name(options_.bound_host)) return true;
  return std::any_of(options_.allowed_hosts.begin(), options_.allowed_hosts.end(),
                     [&](const std::string& entry) { return matches_host_entry(name, entry); });
}

bool RequestGuard::cors_origin(std::string_view origin) const {
  const std::string o = normalized_origin(origin);
  if (o.empty() || o == "null") return false;
  return std::any_of(options_.allowed_origins.begin(), options_.allowed_origins.end(),
                     [&](const std::string& entry) {
                       const std::string e = normalized_origin(entry);
                       return e == "*" || e == o;
                     });
}

bool RequestGuard::origin_allowed(std::string_view origin, std::string_view host_header) const {
  const std::string o = normalized_origin(origin);
  if (o.empty() || o == "null") return false;  // "null": sandboxed frames, file:// pages, redirects
  // The page's own origin: the authority the browser used to reach us, which is the Host it sent.
  const size_t scheme_end = o.find("://");
  if (scheme_end != std::string::npos && !host_header.empty()) {
    const std::string scheme = o.substr(0, scheme_end);
    if ((scheme == "http" || scheme == "https") && o.substr(scheme_end + 3) == lower(trim(host_header))) {
      return true;
    }
  }
  return cors_origin(o);
}

std::optional<ApiError> RequestGuard::check(const GuardedRequest& r) const {
  // A request without Host (HTTP/1.0 tools) cannot come from a browser: browsers always send it.
  if (!r.host.empty() && !host_allowed(r.host)) {
    return forbidden("the Host '" + r.host +
                         "' is not one this server answers to (localhost names, IP addresses, the address it "
                         "listens on, and those given with --allowed-hosts); this refuses DNS-rebinding "
                         "attacks by web pages",
                     "forbidden_host");
  }
  if (!r.origin.empty()) {
    if (!origin_allowed(r.origin, r.host)) {
      return forbidden("cross-origin requests from '" + r.origin +
                           "' are refused: only the server's own page and the origins given with "
                           "--allowed-origins may call it from a browser",
                       "forbidden_origin");
    }
  } else if (r.sec_fetch_site == "cross-site" || r.sec_fetch_site == "same-site") {
    // A browser request from another site that carries no Origin (an <img>, a <script>, a link): only a
    // top-level visit of the page itself is let through.
    const bool page_visit =
        r.method == "GET" && r.sec_fetch_mode == "navigate" && !r.path.starts_with("/v1/");
    if (!page_visit) {
      return forbidden("cross-site browser requests are refused (Sec-Fetch-Site: " + r.sec_fetch_site + ")",
                       "forbidden_origin");
    }
  }
  if (r.method == "POST") {
    const std::string type = media_type(r.content_type);
    const std::string wanted = r.is_upload ? "multipart/form-data" : "application/json";
    if (type != wanted) {
      return forbidden("this endpoint takes Content-Type: " + wanted + ", not " +
                           (type.empty() ? std::string("a body without one") : "'" + type + "'") +
                           " (other types are refused so that no web page can post to this server without "
                           "the browser asking it first)",
                       "unsupported_content_type");
    }
  }
  return std::nullopt;
}

}  // namespace agentrt::server
