// The one way tools reach the network: an HTTP(S) client on libcurl that refuses server-side request forgery
// by construction. Every hop (redirects are followed by hand, at most `max_redirects`) is checked twice: the
// URL (scheme http/https only, host allow/deny lists, cloud metadata names) before curl sees it, and the
// address curl actually connects to, inside CURLOPT_OPENSOCKETFUNCTION, against loopback, private,
// link-local, CGNAT, multicast, reserved and metadata ranges including their IPv4-mapped / NAT64 / 6to4 IPv6
// forms. Checking the connected address (not the name) is what defeats DNS tricks: decimal/octal/hex IP
// spellings and names that resolve to private addresses all end up as a sockaddr the check sees. Proxies from
// the environment are never used.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/schema.h"

namespace agentrt::tools {

struct FetchPolicy {
  // Non-empty: only these hosts (an entry matches the host itself and its subdomains).
  std::vector<std::string> allow_hosts;
  // Always refused (same matching); cloud metadata names are refused in addition to these.
  std::vector<std::string> deny_hosts;
  // Lets 127.0.0.0/8 and ::1 through. For tests against local servers only; never on by default.
  bool allow_loopback = false;
  // Lets private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) through: only for endpoints the
  // operator configured (a self-hosted SearxNG, an MCP server), never for URLs the model chose.
  bool allow_private = false;
  int max_redirects = 5;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{20000};
  // Cap on the (decoded) response body; the write callback stops the transfer there.
  std::size_t max_bytes = 2 * 1024 * 1024;
  // Pinned name resolutions in curl's "host:port:address" form (CURLOPT_RESOLVE).
  std::vector<std::string> resolve;
  std::string user_agent = "agentrt/0.1";

  // Reads {"allow_hosts":[..], "deny_hosts":[..], "allow_loopback":bool, "allow_private":bool,
  // "max_redirects":n, "connect_timeout_ms":n, "timeout_ms":n, "max_bytes":n, "resolve":[..],
  // "user_agent":s}; absent keys keep their defaults. Throws std::invalid_argument naming the bad key.
  static FetchPolicy from_json(const Json& settings);
};

struct FetchRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;
};

struct FetchResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // of the final hop, names lower-cased
  std::string content_type;                                  // lower-cased, without parameters
  std::string charset;                                       // from the content type, if given
  std::string body;  // decoded (gzip/deflate/br undone), at most max_bytes
  std::string final_url;
  int redirects = 0;
  bool truncated = false;  // the body reached max_bytes and the transfer was stopped there

  // The value of header `name` (lower-case) or "".
  std::string header(std::string_view name) const;
};

class FetchError : public std::runtime_error {
 public:
  enum class Kind { Refused, InvalidUrl, Timeout, TooManyRedirects, Network };
  FetchError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Performs the request under the policy, giving up at `deadline` too. Throws FetchError with a message a
// model or a user can act on ("refused: ...", "timed out ...", ...). HTTP error statuses are responses, not
// errors.
FetchResponse safe_fetch(
    const FetchRequest& request, const FetchPolicy& policy,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

// Why connecting to this address is refused under the policy, or nullopt when it is allowed.
std::optional<std::string> blocked_address_reason(const sockaddr* address, const FetchPolicy& policy);
// The same for a numeric address in text form (IPv4 dotted quad or IPv6); throws std::invalid_argument
// otherwise.
std::optional<std::string> blocked_address_reason(std::string_view numeric_address,
                                                  const FetchPolicy& policy);

// Why the URL is refused before any connection (scheme, host lists, metadata names), or nullopt.
std::optional<std::string> blocked_url_reason(std::string_view url, const FetchPolicy& policy);

// `url` with `query` (a JSON object of scalar values) appended as percent-encoded parameters.
std::string with_query(std::string_view url, const Json& query);

}  // namespace agentrt::tools
