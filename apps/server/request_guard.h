// What keeps a web page the user happens to visit from driving a local server (the class of bug behind
// Ollama's and Jupyter's localhost advisories). Every request passes, before its route:
//   - Host: a browser tricked by DNS rebinding sends the attacker's host name; only localhost names, IP
//     literals (which no rebinding can produce), the bound address and --allowed-hosts are served;
//   - Origin: a cross-origin browser request (Origin, or Sec-Fetch-Site for the GETs that carry none) is
//     refused unless its origin is the page's own or in --allowed-origins, which also get CORS answers;
//   - Content-Type: POSTs to JSON endpoints must say application/json, which no page can send to another
//     origin without the browser asking first (a CORS preflight, which only allowed origins pass); uploads
//     are multipart/form-data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/server/api_error.h"

namespace agentrt::server {

struct RequestGuardOptions {
  std::string bound_host;  // the address the server listens on
  // Extra host names clients may use ("*": any; ".example.org": that domain and its subdomains).
  std::vector<std::string> allowed_hosts;
  // Origins of other pages that may call the API ("https://app.example.org"; "*": any).
  std::vector<std::string> allowed_origins;
};

// The request as the guard sees it.
struct GuardedRequest {
  std::string method;
  std::string path;
  std::string host;            // the Host header ("" when absent)
  std::string origin;          // the Origin header ("" when absent)
  std::string sec_fetch_site;  // "same-origin" | "same-site" | "cross-site" | "none" | ""
  std::string sec_fetch_mode;  // "navigate" | "cors" | "no-cors" | ...
  std::string content_type;    // the Content-Type header ("" when absent)
  bool is_upload = false;      // a POST to a files route (multipart)
};

class RequestGuard {
 public:
  explicit RequestGuard(RequestGuardOptions options);

  // The 403 a request gets, or nothing when it may go on.
  std::optional<ApiError> check(const GuardedRequest& request) const;
  // An Origin allowed by --allowed-origins (not merely the page's own): its responses carry CORS headers.
  bool cors_origin(std::string_view origin) const;

  // The pieces, for tests and messages.
  bool host_allowed(std::string_view host_header) const;
  bool origin_allowed(std::string_view origin, std::string_view host_header) const;

 private:
  RequestGuardOptions options_;
};

// "application/json; charset=utf-8" → "application/json" (lowercase, parameters dropped).
std::string media_type(std::string_view content_type);

}  // namespace agentrt::server
