#include "tools/safe_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>

namespace agentrt::tools {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// ---- address ranges
// ------------------------------------------------------------------------------------------

enum class Category { Loopback, Private, Always };

struct Range4 {
  std::uint32_t base;
  int prefix;
  Category category;
  const char* what;
};

// Ordered so that the most specific (and most telling) range is named first.
constexpr std::array<Range4, 16> kBlocked4 = {{
    {0xA9FEA9FEu, 32, Category::Always, "the cloud metadata address"},
    {0x00000000u, 8, Category::Always, "\"this network\" (0.0.0.0/8)"},
    {0x0A000000u, 8, Category::Private, "private (10.0.0.0/8)"},
    {0x64400000u, 10, Category::Private, "shared CGNAT space (100.64.0.0/10)"},
    {0x7F000000u, 8, Category::Loopback, "loopback (127.0.0.0/8)"},
    {0xA9FE0000u, 16, Category::Always, "link-local (169.254.0.0/16)"},
    {0xAC100000u, 12, Category::Private, "private (172.16.0.0/12)"},
    {0xC0000000u, 24, Category::Always, "reserved for IETF protocol assignments (192.0.0.0/24)"},
    {0xC0000200u, 24, Category::Always, "documentation (192.0.2.0/24)"},
    {0xC0586300u, 24, Category::Always, "6to4 relay anycast (192.88.99.0/24)"},
    {0xC0A80000u, 16, Category::Private, "private (192.168.0.0/16)"},
    {0xC6120000u, 15, Category::Always, "benchmarking (198.18.0.0/15)"},
    {0xC6336400u, 24, Category::Always, "documentation (198.51.100.0/24)"},
    {0xCB007100u, 24, Category::Always, "documentation (203.0.113.0/24)"},
    {0xE0000000u, 4, Category::Always, "multicast (224.0.0.0/4)"},
    {0xF0000000u, 4, Category::Always, "reserved (240.0.0.0/4, incl. broadcast)"},
}};

bool allowed_by(Category category, const FetchPolicy& policy) {
  switch (category) {
    case Category::Loopback:
      return policy.allow_loopback;
    case Category::Private:
      return policy.allow_private;
    case Category::Always:
      return false;
  }
  return false;
}

std::string format_v4(std::uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::optional<std::string> check_v4(std::uint32_t addr, const FetchPolicy& policy, const std::string& shown) {
  for (const auto& r : kBlocked4) {
    std::uint32_t mask = r.prefix == 0 ? 0 : (0xFFFFFFFFu << (32 - r.prefix));
    if ((addr & mask) == (r.base & mask)) {
      if (allowed_by(r.category, policy)) return std::nullopt;
      return shown + " is " + r.what;
    }
  }
  return std::nullopt;
}

std::uint32_t v4_at(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

std::optional<std::string> check_v6(const unsigned char* b, const FetchPolicy& policy) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, b, buf, sizeof buf);
  const std::string shown = std::string("[") + buf + "]";
  auto prefix_is = [&](std::initializer_list<unsigned> bytes) {
    std::size_t i = 0;
    for (unsigned v : bytes) {
      if (b[i++] != v) return false;
    }
    return true;
  };
  auto zero_until = [&](std::size_t n) {
    return std::all_of(b, b + n, [](unsigned char c) { return c == 0; });
  };

  if (zero_until(16)) return shown + " is the unspecified address (::)";
  if (zero_until(15) && b[15] == 1) {
    if (policy.allow_loopback) return std::nullopt;
    return shown + " is loopback (::1)";
  }
  // Forms that embed an IPv4 address: judge the embedded address.
  if (zero_until(10) && b[10] == 0xff && b[11] == 0xff) {
    auto why = check_v4(v4_at(b + 12), policy, format_v4(v4_at(b + 12)));
    if (why) return shown + " is IPv4-mapped: " + *why;
    return std::nullopt;
  }
  if (zero_until(12)) return shown + " is an IPv4-compatible address (::/96, deprecated)";
  if (prefix_is({0x00, 0x64, 0xff, 0x9b}) &&
      std::all_of(b + 4, b + 12, [](unsigned char c) { return c == 0; })) {
    auto why = check_v4(v4_at(b + 12), policy, format_v4(v4_at(b + 12)));
    if (why) return shown + " is NAT64 (64:ff9b::/96) of " + *why;
    return std::nullopt;
  }
  if (prefix_is({0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) return shown + " is local-use NAT64 (64:ff9b:1::/48)";
  if (prefix_is({0x20, 0x02})) {
    auto why = check_v4(v4_at(b + 2), policy, format_v4(v4_at(b + 2)));
    if (why) return shown + " is 6to4 (2002::/16) of " + *why;
    return std::nullopt;
  }
  if (prefix_is({0x20, 0x01, 0x0d, 0xb8})) return shown + " is documentation (2001:db8::/32)";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) {
    return shown + " is reserved for IETF protocol assignments and Teredo (2001::/23)";
  }
  if ((b[0] & 0xfe) == 0xfc) {
    if (policy.allow_private) return std::nullopt;
    return shown + " is unique local, i.e. private (fc00::/7)";
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return shown + " is link-local (fe80::/10)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return shown + " is site-local (fec0::/10, deprecated)";
  if (b[0] == 0xff) return shown + " is multicast (ff00::/8)";
  // Everything outside global unicast 2000::/3 is reserved or special-purpose.
  if ((b[0] & 0xe0) != 0x20) return shown + " is outside global unicast (2000::/3)";
  return std::nullopt;
}

// ---- URL checks
// -----------------------------------------------------------------------------------------------

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

std::string url_part(CURLU* u, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(u, part, &value, 0) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

struct ParsedUrl {
  std::string normalized;
  std::string scheme;
  std::string host;  // without brackets, lower-case
};

ParsedUrl parse_url(std::string_view url) {
  init_curl_once();
  UrlHandle u(curl_url());
  const std::string text = trim(url);
  if (text.empty()) throw FetchError(FetchError::Kind::InvalidUrl, "invalid URL: empty");
  CURLUcode rc =
      curl_url_set(u.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME | CURLU_DEFAULT_SCHEME);
  if (rc != CURLUE_OK) {
    throw FetchError(FetchError::Kind::InvalidUrl,
                     "invalid URL '" + text + "': " + std::string(curl_url_strerror(rc)));
  }
  ParsedUrl out;
  out.normalized = url_part(u.get(), CURLUPART_URL);
  out.scheme = lower(url_part(u.get(), CURLUPART_SCHEME));
  out.host = lower(url_part(u.get(), CURLUPART_HOST));
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  while (!out.host.empty() && out.host.back() == '.') out.host.pop_back();  // "localhost." is "localhost"
  return out;
}

bool host_matches(const std::string& host, std::string_view entry_raw) {
  std::string entry = lower(trim(entry_raw));
  if (entry.rfind("*.", 0) == 0) entry = entry.substr(2);
  while (!entry.empty() && entry.front() == '.') entry.erase(entry.begin());
  if (entry.empty()) return false;
  if (host == entry) return true;
  return host.size() > entry.size() && host.compare(host.size() - entry.size(), entry.size(), entry) == 0 &&
         host[host.size() - entry.size() - 1] == '.';
}

constexpr std::array<const char*, 5> kMetadataHosts = {
    "metadata.google.internal", "metadata.goog", "metadata", "instance-data", "metadata.azure.internal"};

std::optional<std::string> check_parsed(const ParsedUrl& url, const FetchPolicy& policy) {
  if (url.scheme != "http" && url.scheme != "https") {
    return "scheme '" + url.scheme + "://' is not allowed (only http and https)";
  }
  if (url.host.empty()) return "the URL has no host";
  for (const char* name : kMetadataHosts) {
    if (host_matches(url.host, name)) return "host '" + url.host + "' is a cloud metadata service";
  }
  // RFC 6761: every *.localhost name is loopback, whatever a resolver says.
  if (!policy.allow_loopback && host_matches(url.host, "localhost")) {
    return "host '" + url.host + "' is a loopback name";
  }
  for (const auto& entry : policy.deny_hosts) {
    if (host_matches(url.host, entry)) return "host '" + url.host + "' is on the deny list";
  }
  if (!policy.allow_hosts.empty()) {
    bool listed = std::any_of(policy.allow_hosts.begin(), policy.allow_hosts.end(),
                              [&](const std::string& e) { return host_matches(url.host, e); });
    if (!listed) return "host '" + url.host + "' is not on the allow list";
  }
  // A literal address is judged now, before curl: the socket check below would refuse it too.
  unsigned char bytes[16];
  if (inet_pton(AF_INET, url.host.c_str(), bytes) == 1 || inet_pton(AF_INET6, url.host.c_str(), bytes) == 1) {
    return blocked_address_reason(url.host, policy);
  }
  return std::nullopt;
}

// ---- one hop
// --------------------------------------------------------------------------------------------------

struct HopState {
  const FetchPolicy* policy = nullptr;
  std::string refused;  // set by the socket check
  std::string body;
  bool truncated = false;
  std::vector<std::pair<std::string, std::string>> headers;
};

curl_socket_t open_checked_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto* state = static_cast<HopState*>(clientp);
  if (purpose != CURLSOCKTYPE_IPCXN) {
    state->refused = "refused: only plain IP connections are allowed";
    return CURL_SOCKET_BAD;
  }
  auto why = blocked_address_reason(&address->addr, *state->policy);
  if (why) {
    if (state->refused.empty()) state->refused = "refused: " + *why;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* state = static_cast<HopState*>(userp);
  const std::size_t n = size * count;
  const std::size_t room = state->policy->max_bytes - std::min(state->policy->max_bytes, state->body.size());
  if (n > room) {
    state->body.append(data, room);
    state->truncated = true;
    return 0;  // stops the transfer: CURLE_WRITE_ERROR, which the caller reads as "cut at the cap"
  }
  state->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* state = static_cast<HopState*>(userp);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    state->headers.clear();  // a new response (after 100 Continue or similar) starts
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    state->headers.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return n;
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct HopResult {
  long status = 0;
  std::string redirect_url;
  HopState state;
};

HopResult perform_hop(const std::string& url, const std::string& method,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::optional<std::string>& body, const FetchPolicy& policy,
                      Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) throw FetchError(FetchError::Kind::Timeout, "timed out before connecting to " + url);

  std::unique_ptr<CURL, EasyDeleter> h(curl_easy_init());
  if (!h) throw FetchError(FetchError::Kind::Network, "could not create an HTTP client");
  HopResult result;
  result.state.policy = &policy;
  char errbuf[CURL_ERROR_SIZE] = {};

  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  for (const auto& [name, value] : headers) {
    std::string line = name + (value.empty() ? ";" : ": " + value);
    header_list.reset(curl_slist_append(header_list.release(), line.c_str()));
  }
  std::unique_ptr<curl_slist, SlistDeleter> resolve_list;
  for (const auto& entry : policy.resolve)
    resolve_list.reset(curl_slist_append(resolve_list.release(), entry.c_str()));

  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY,
                   "");  // "" turns off http_proxy/https_proxy/all_proxy from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(policy.connect_timeout, left).count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // decoded before on_body counts it: bombs hit the cap
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &open_checked_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &result.state);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.state);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &result.state);
  curl_easy_setopt(c, CURLOPT_USERAGENT, policy.user_agent.c_str());
  if (header_list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  if (resolve_list) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_list.get());

  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method != "GET" || body) {
    if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (body || method == "POST") {
      // curl does not copy POSTFIELDS: point it at the caller's body, which outlives the transfer.
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body ? body->size() : 0));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body->c_str() : "");
    }
  }

  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
  char* location = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
    result.redirect_url = location;

  if (!result.state.refused.empty()) throw FetchError(FetchError::Kind::Refused, result.state.refused);
  if (rc == CURLE_WRITE_ERROR && result.state.truncated) return result;
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    throw FetchError(FetchError::Kind::Timeout, "timed out fetching " + url + " (" + errbuf + ")");
  }
  if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
    throw FetchError(FetchError::Kind::Refused, "refused: only http and https are allowed (" + url + ")");
  }
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    throw FetchError(FetchError::Kind::Network, "could not fetch " + url + ": " + detail);
  }
  return result;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

// ---- public
// ---------------------------------------------------------------------------------------------------

FetchPolicy FetchPolicy::from_json(const Json& s) {
  FetchPolicy p;
  if (s.is_null()) return p;
  if (!s.is_object()) throw std::invalid_argument("fetch settings must be a JSON object");
  auto strings = [&](const char* key, std::vector<std::string>& out) {
    if (!s.contains(key)) return;
    if (!s[key].is_array())
      throw std::invalid_argument(std::string("'") + key + "' must be an array of strings");
    out.clear();
    for (const auto& v : s[key]) {
      if (!v.is_string())
        throw std::invalid_argument(std::string("'") + key + "' must be an array of strings");
      out.push_back(v.get<std::string>());
    }
  };
  auto number = [&](const char* key) -> std::optional<long long> {
    if (!s.contains(key)) return std::nullopt;
    if (!s[key].is_number_integer() || s[key].get<long long>() < 0) {
      throw std::invalid_argument(std::string("'") + key + "' must be a non-negative integer");
    }
    return s[key].get<long long>();
  };
  auto flag = [&](const char* key, bool& out) {
    if (!s.contains(key)) return;
    if (!s[key].is_boolean()) throw std::invalid_argument(std::string("'") + key + "' must be true or false");
    out = s[key].get<bool>();
  };
  strings("allow_hosts", p.allow_hosts);
  strings("deny_hosts", p.deny_hosts);
  strings("resolve", p.resolve);
  flag("allow_loopback", p.allow_loopback);
  flag("allow_private", p.allow_private);
  if (auto v = number("max_redirects")) p.max_redirects = static_cast<int>(std::min<long long>(*v, 5));
  if (auto v = number("connect_timeout_ms")) p.connect_timeout = std::chrono::milliseconds(*v);
  if (auto v = number("timeout_ms")) p.total_timeout = std::chrono::milliseconds(*v);
  if (auto v = number("max_bytes")) p.max_bytes = static_cast<std::size_t>(*v);
  if (s.contains("user_agent")) {
    if (!s["user_agent"].is_string()) throw std::invalid_argument("'user_agent' must be a string");
    p.user_agent = s["user_agent"].get<std::string>();
  }
  return p;
}

std::string FetchResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> blocked_address_reason(const sockaddr* address, const FetchPolicy& policy) {
  if (address == nullptr) return "no address";
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    const std::uint32_t a = ntohl(in->sin_addr.s_addr);
    return check_v4(a, policy, format_v4(a));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return check_v6(in6->sin6_addr.s6_addr, policy);
  }
  return "address family " + std::to_string(address->sa_family) + " is not allowed";
}

std::optional<std::string> blocked_address_reason(std::string_view numeric_address,
                                                  const FetchPolicy& policy) {
  std::string text(numeric_address);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return blocked_address_reason(reinterpret_cast<const sockaddr*>(&v4), policy);
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return blocked_address_reason(reinterpret_cast<const sockaddr*>(&v6), policy);
  }
  throw std::invalid_argument("not a numeric IP address: '" + text + "'");
}

std::optional<std::string> blocked_url_reason(std::string_view url, const FetchPolicy& policy) {
  try {
    return check_parsed(parse_url(url), policy);
  } catch (const FetchError& e) {
    return std::string(e.what());
  }
}

std::string with_query(std::string_view url, const Json& query) {
  if (query.is_null() || (query.is_object() && query.empty())) return std::string(url);
  if (!query.is_object())
    throw std::invalid_argument("'query' must be an object of parameter names to values");
  init_curl_once();
  UrlHandle u(curl_url());
  const std::string text(url);
  CURLUcode rc =
      curl_url_set(u.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME | CURLU_DEFAULT_SCHEME);
  if (rc != CURLUE_OK) throw std::invalid_argument("invalid URL '" + text + "': " + curl_url_strerror(rc));
  auto append = [&](const std::string& key, const Json& value) {
    std::string v;
    if (value.is_string()) {
      v = value.get<std::string>();
    } else if (value.is_null()) {
      v = "";
    } else if (value.is_primitive()) {
      v = value.dump();
    } else {
      throw std::invalid_argument("query parameter '" + key + "' must be a string, number or boolean");
    }
    const std::string pair = key + "=" + v;
    curl_url_set(u.get(), CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY | CURLU_URLENCODE);
  };
  for (const auto& [key, value] : query.items()) {
    if (value.is_array()) {
      for (const auto& item : value) append(key, item);
    } else {
      append(key, value);
    }
  }
  return url_part(u.get(), CURLUPART_URL);
}

FetchResponse safe_fetch(const FetchRequest& request, const FetchPolicy& policy, Clock::time_point deadline) {
  init_curl_once();
  const auto start = Clock::now();
  if (policy.total_timeout.count() > 0) deadline = std::min(deadline, start + policy.total_timeout);

  std::string method = request.method.empty() ? "GET" : request.method;
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  static const std::array<const char*, 7> kMethods = {"GET",    "POST", "PUT",    "PATCH",
                                                      "DELETE", "HEAD", "OPTIONS"};
  if (std::none_of(kMethods.begin(), kMethods.end(), [&](const char* m) { return method == m; })) {
    throw FetchError(
        FetchError::Kind::InvalidUrl,
        "method '" + method + "' is not supported (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)");
  }
  auto headers = request.headers;
  std::optional<std::string> body = request.body;
  ParsedUrl url = parse_url(request.url);
  const std::string first_host = url.host;

  for (int hop = 0;; ++hop) {
    if (auto why = check_parsed(url, policy)) {
      throw FetchError(
          FetchError::Kind::Refused,
          "refused: " + *why + (hop > 0 ? " (reached by redirect from " + request.url + ")" : ""));
    }
    HopResult r = perform_hop(url.normalized, method, headers, body, policy, deadline);
    if (is_redirect(r.status) && !r.redirect_url.empty()) {
      if (hop >= policy.max_redirects) {
        throw FetchError(FetchError::Kind::TooManyRedirects, "too many redirects: stopped after " +
                                                                 std::to_string(policy.max_redirects) +
                                                                 " at " + url.normalized);
      }
      ParsedUrl next = parse_url(r.redirect_url);
      // As browsers do: 303 (and 301/302 after POST) turn into GET without a body.
      if (r.status == 303 || ((r.status == 301 || r.status == 302) && method == "POST")) {
        if (method != "HEAD") method = "GET";
        body.reset();
      }
      if (next.host != first_host) {
        // Credentials meant for the first host do not travel to another one.
        std::erase_if(headers, [](const auto& h) {
          const std::string n = lower(h.first);
          return n == "authorization" || n == "cookie" || n == "proxy-authorization";
        });
      }
      url = std::move(next);
      continue;
    }
    FetchResponse out;
    out.status = r.status;
    out.headers = std::move(r.state.headers);
    out.body = std::move(r.state.body);
    out.truncated = r.state.truncated;
    out.final_url = url.normalized;
    out.redirects = hop;
    const std::string ct = out.header("content-type");
    const auto semi = ct.find(';');
    out.content_type = lower(trim(ct.substr(0, semi)));
    if (semi != std::string::npos) {
      const std::string params = lower(ct.substr(semi + 1));
      if (auto at = params.find("charset="); at != std::string::npos) {
        std::string cs = trim(params.substr(at + 8));
        cs = cs.substr(0, cs.find(';'));
        std::erase(cs, '"');
        out.charset = trim(cs);
      }
    }
    return out;
  }
}

}  // namespace agentrt::tools
