#include "agent/backends/backend_remote.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <httplib.h>

#include "engine/tokenizer.h"

namespace agentrt::agent {
namespace {

using Clock = std::chrono::steady_clock;

// A failure worth another attempt (connection refused or reset, 5xx); anything else is thrown as
// runtime_error.
struct RetryableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The server refused the request itself (HTTP 4xx): not retried as it is, but a caller may change it.
struct ClientError : std::runtime_error {
  ClientError(const std::string& message, int status) : std::runtime_error(message), status(status) {}
  int status;
};

// Runs `attempt` until it returns, retrying RetryableError with exponential backoff.
template <typename Attempt>
auto with_retries(const RemoteBackendOptions& options, Attempt&& attempt) {
  auto backoff = options.initial_backoff;
  for (int tries = 1;; ++tries) {
    try {
      return attempt();
    } catch (const RetryableError& error) {
      if (tries > options.max_retries) {
        throw std::runtime_error(std::string(error.what()) + " (gave up after " + std::to_string(tries) +
                                 (tries == 1 ? " attempt)" : " attempts)"));
      }
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

// Servers print what they receive; 0.7f as a double would read 0.699999988079071.
double as_decimal(float value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", static_cast<double>(value));
  return std::strtod(buffer, nullptr);
}

std::string describe(httplib::Error error) {
  return httplib::to_string(error);
}

// The message of an OpenAI-style error reply ({"error": {"message": ...}}), vLLM's older flat form
// ({"object": "error", "message": ...}), FastAPI's {"detail": ...}, or the raw body when none of these.
std::string server_error_message(const std::string& body) {
  const Json reply = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_object()) {
    if (auto it = reply.find("error"); it != reply.end()) {
      if (it->is_string()) return it->get<std::string>();
      if (it->is_object() && it->contains("message") && (*it)["message"].is_string()) {
        return (*it)["message"].get<std::string>();
      }
    }
    if (auto it = reply.find("message"); it != reply.end() && it->is_string()) return it->get<std::string>();
    if (auto it = reply.find("detail"); it != reply.end())
      return it->is_string() ? it->get<std::string>() : it->dump();
  }
  constexpr size_t kMaxShown = 500;
  if (body.empty()) return "(empty body)";
  return body.size() > kMaxShown ? body.substr(0, kMaxShown) + "..." : body;
}

// Client-side stop strings: servers differ in whether (and how) they honour `stop`, so the text is cut at the
// first stop string here too. Text that could still turn out to be the start of a stop string is held back
// until the next piece decides it.
class StopScanner {
 public:
  explicit StopScanner(const std::vector<std::string>& stops) {
    for (const auto& stop : stops) {
      if (!stop.empty()) stops_.push_back(stop);
    }
  }

  // Adds received text; returns the part that is now safe to hand out. After a stop string, stopped() is
  // true.
  std::string push(std::string_view text) {
    if (stopped_) return {};
    pending_.append(text);
    size_t first = std::string::npos;
    for (const auto& stop : stops_) {
      const size_t at = pending_.find(stop);
      if (at < first) {
        first = at;
        stop_ = stop;
      }
    }
    if (first != std::string::npos) {
      stopped_ = true;
      std::string out = pending_.substr(0, first);
      pending_.clear();
      return out;
    }
    size_t hold = 0;
    for (const auto& stop : stops_) {
      for (size_t k = std::min(stop.size() - 1, pending_.size()); k > hold; --k) {
        if (pending_.compare(pending_.size() - k, k, stop, 0, k) == 0) {
          hold = k;
          break;
        }
      }
    }
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
  }

  // The held-back text, once the stream has ended without completing a stop string.
  std::string flush() { return std::exchange(pending_, {}); }
  bool stopped() const { return stopped_; }
  const std::string& stop() const { return stop_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string stop_;
};

// One POST to /v1/completions and everything received for it.
class CompletionExchange {
 public:
  CompletionExchange(const RemoteBackendOptions& options, const RemoteEndpoint& endpoint,
                     const std::string& body, const GenerationParams& params, const ChunkCallback& on_chunk)
      : options_(options), endpoint_(endpoint), body_(body), on_chunk_(on_chunk), stops_(params.stop) {}

  Completion run() {
    httplib::Client client = make_client();
    httplib::Request request;
    request.method = "POST";
    request.path = endpoint_.path_prefix + "/v1/completions";
    request.body = body_;
    request.set_header("Content-Type", "application/json");
    request.set_header("Accept", options_.stream ? "text/event-stream" : "application/json");
    request.response_handler = [this](const httplib::Response& response) {
      status_ = response.status;
      return true;
    };
    request.content_receiver = [this](const char* data, size_t size, uint64_t, uint64_t) {
      last_activity_ = Clock::now();
      // The caller's callback may throw; the exception must not unwind through the HTTP client.
      try {
        return receive(std::string_view(data, size));
      } catch (...) {
        callback_error_ = std::current_exception();
        return false;
      }
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    last_activity_ = Clock::now();
    const bool sent = client.send(request, response, error);
    if (callback_error_) std::rethrow_exception(callback_error_);
    if (!failure_.empty()) throw std::runtime_error(where() + failure_ + streamed_note());
    if (cancelled_) return finish("cancelled");
    if (stops_.stopped()) {
      completion_.stop = stops_.stop();
      return finish("stop");
    }
    if (!sent) transport_failure(error);
    if (status_ != 200) http_failure();
    return options_.stream ? end_of_stream() : parse_whole_reply();
  }

 private:
  httplib::Client make_client() const {
    httplib::Client client(endpoint_.scheme_host_port);
    client.set_connection_timeout(options_.connect_timeout);
    client.set_read_timeout(options_.read_timeout);
    client.set_write_timeout(options_.read_timeout);
    client.set_keep_alive(false);
    if (!options_.api_key.empty()) client.set_bearer_token_auth(options_.api_key);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    client.enable_server_certificate_verification(options_.verify_tls);
    if (!options_.ca_cert_file.empty()) client.set_ca_cert_path(options_.ca_cert_file);
#endif
    return client;
  }

  std::string where() const {
    return "remote backend (" + options_.endpoint + "): ";
  }

  std::string streamed_note() const {
    if (!streamed_any_) return "";
    return " (" + std::to_string(completion_.text.size()) +
           " characters of output had already reached the caller, so the request was not retried)";
  }

  // Called by the HTTP client for every piece of the body; returning false closes the connection.
  bool receive(std::string_view bytes) {
    if (status_ != 200 || !options_.stream) {
      raw_body_.append(bytes);
      return true;
    }
    for (const std::string& payload : decoder_.feed(bytes)) {
      if (!handle_event(payload)) return false;
    }
    return true;
  }

  // One SSE data payload; false ends the exchange (cancelled, client-side stop, or a malformed event).
  bool handle_event(const std::string& payload) {
    if (payload == "[DONE]") {
      saw_done_ = true;
      return true;
    }
    Json event = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.is_object()) {
      constexpr size_t kMaxShown = 200;
      failure_ = "malformed stream: an event is not a JSON object: " +
                 (payload.size() > kMaxShown ? payload.substr(0, kMaxShown) + "..." : payload);
      return false;
    }
    if (event.contains("error")) {
      failure_ = "the server reported an error mid-stream: " + server_error_message(payload);
      return false;
    }
    read_usage(event);
    const auto choices = event.find("choices");
    if (choices == event.end() || !choices->is_array() || choices->empty())
      return true;  // e.g. the usage event
    const Json& choice = (*choices)[0];
    if (auto text = choice.find("text"); text != choice.end() && text->is_string()) {
      if (!emit(stops_.push(text->get<std::string>()))) return false;
      if (stops_.stopped()) return false;
    }
    read_finish(choice);
    return true;
  }

  void read_usage(const Json& reply) {
    const auto usage = reply.find("usage");
    if (usage == reply.end() || !usage->is_object()) return;
    if (auto it = usage->find("prompt_tokens"); it != usage->end() && it->is_number_integer()) {
      completion_.prompt_tokens = it->get<int>();
    }
    if (auto it = usage->find("completion_tokens"); it != usage->end() && it->is_number_integer()) {
      completion_.completion_tokens = it->get<int>();
    }
  }

  void read_finish(const Json& choice) {
    if (auto reason = choice.find("finish_reason"); reason != choice.end() && reason->is_string()) {
      server_finish_ = reason->get<std::string>();
    }
    // vLLM names the stop string that ended generation (or a token id, or null for end of sequence).
    if (auto stop = choice.find("stop_reason"); stop != choice.end() && stop->is_string()) {
      server_stop_ = stop->get<std::string>();
    }
  }

  bool emit(std::string text) {
    if (text.empty()) return true;
    completion_.text += text;
    streamed_any_ = true;
    if (!on_chunk_ || on_chunk_(TokenChunk{std::move(text), {}})) return true;
    cancelled_ = true;
    return false;
  }

  Completion finish(std::string reason) {
    completion_.finish_reason = std::move(reason);
    return std::move(completion_);
  }

  [[noreturn]] void transport_failure(httplib::Error error) {
    // The client reports a read timeout and a reset connection alike; the silence before it tells them apart.
    const bool timed_out =
        error == httplib::Error::Read && Clock::now() - last_activity_ >= options_.read_timeout * 9 / 10;
    const std::string timeout =
        "timed out: no data from the server for " + std::to_string(options_.read_timeout.count()) + " ms";
    if (streamed_any_) {
      throw std::runtime_error(
          where() + (timed_out ? timeout : "the connection failed mid-stream (" + describe(error) + ")") +
          streamed_note());
    }
    switch (error) {
      case httplib::Error::Read:
        if (timed_out) throw std::runtime_error(where() + timeout);
        throw RetryableError(where() + "the connection was closed before a reply (" + describe(error) + ")");
      case httplib::Error::ConnectionTimeout:
        throw RetryableError(where() + "timed out connecting after " +
                             std::to_string(options_.connect_timeout.count()) + " ms");
      case httplib::Error::SSLLoadingCerts:
      case httplib::Error::SSLServerVerification:
        throw std::runtime_error(where() + "TLS error: " + describe(error));
      default:
        throw RetryableError(where() + "cannot reach the server (" + describe(error) + ")");
    }
  }

  [[noreturn]] void http_failure() {
    const std::string message =
        where() + "HTTP " + std::to_string(status_) + ": " + server_error_message(raw_body_);
    if (status_ >= 500) throw RetryableError(message);
    throw ClientError(message, status_);
  }

  Completion end_of_stream() {
    for (const std::string& payload : decoder_.finish()) {
      if (!handle_event(payload)) break;
    }
    if (!failure_.empty()) throw std::runtime_error(where() + failure_ + streamed_note());
    if (cancelled_) return finish("cancelled");
    if (stops_.stopped()) {
      completion_.stop = stops_.stop();
      return finish("stop");
    }
    if (!saw_done_ && server_finish_.empty()) {
      throw std::runtime_error(where() +
                               "malformed stream: it ended without [DONE] and without a finish_reason" +
                               streamed_note());
    }
    return complete();
  }

  Completion parse_whole_reply() {
    const Json reply = Json::parse(raw_body_, nullptr, /*allow_exceptions=*/false);
    const Json* choice = nullptr;
    if (reply.is_object() && reply.contains("choices") && reply["choices"].is_array() &&
        !reply["choices"].empty()) {
      choice = &reply["choices"][0];
    }
    if (choice == nullptr || !choice->is_object() || !choice->contains("text") ||
        !(*choice)["text"].is_string()) {
      throw std::runtime_error(where() + "malformed reply: expected {\"choices\": [{\"text\": ...}]}, got: " +
                               server_error_message(raw_body_));
    }
    read_usage(reply);
    read_finish(*choice);
    if (!emit(stops_.push((*choice)["text"].get<std::string>()))) return finish("cancelled");
    if (stops_.stopped()) {
      completion_.stop = stops_.stop();
      return finish("stop");
    }
    return complete();
  }

  // The stream ended normally: hand out the text held back for stop strings and take the server's reason.
  Completion complete() {
    if (!emit(stops_.flush())) return finish("cancelled");
    if (server_finish_ == "stop") completion_.stop = server_stop_;
    return finish(server_finish_.empty() ? "stop" : server_finish_);
  }

  const RemoteBackendOptions& options_;
  const RemoteEndpoint& endpoint_;
  const std::string& body_;
  const ChunkCallback& on_chunk_;
  StopScanner stops_;
  SseEventDecoder decoder_;
  Completion completion_;
  int status_ = -1;
  std::string raw_body_;  // the whole body of an error or non-streamed reply
  std::string failure_;   // why the exchange was aborted from inside the receiver
  std::string server_finish_;
  std::string server_stop_;
  bool saw_done_ = false;
  bool streamed_any_ = false;
  bool cancelled_ = false;
  std::exception_ptr callback_error_;
  Clock::time_point last_activity_;
};

}  // namespace

RemoteEndpoint parse_remote_endpoint(std::string_view url) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument("remote backend: bad endpoint '" + std::string(url) + "': " + why +
                                " (expected http://host[:port][/path] or https://...)");
  };
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) fail("no scheme");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") fail("the scheme must be http or https");
  const std::string_view rest = url.substr(scheme_end + 3);
  const size_t path_start = rest.find('/');
  const std::string_view authority = rest.substr(0, path_start);
  if (authority.empty()) fail("no host");
  if (authority.find_first_of("?#@ ") != std::string_view::npos) fail("unexpected characters in the host");
  if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos && authority.back() != ']') {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
      fail("the port is not a number");
    }
  }
  std::string path(path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start));
  if (path.find_first_of("?#") != std::string::npos) fail("a query or fragment is not allowed");
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.size() >= 3 && path.compare(path.size() - 3, 3, "/v1") == 0) path.resize(path.size() - 3);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return RemoteEndpoint{std::string(scheme) + "://" + std::string(authority), path};
}

std::vector<std::string> SseEventDecoder::feed(std::string_view bytes) {
  std::vector<std::string> out;
  for (const char c : bytes) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // the "\n" of a "\r\n" whose "\r" already ended the line
    }
    if (c == '\r' || c == '\n') {
      pending_cr_ = c == '\r';
      take_line(line_, out);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> SseEventDecoder::finish() {
  std::vector<std::string> out;
  if (!line_.empty()) take_line(line_, out);
  line_.clear();
  take_line("", out);
  return out;
}

void SseEventDecoder::take_line(std::string_view line, std::vector<std::string>& out) {
  if (line.empty()) {  // a blank line dispatches the event
    if (has_data_) out.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  if (field != "data") return;
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

RemoteBackend::RemoteBackend(RemoteBackendOptions options)
    : options_(std::move(options)), endpoint_(parse_remote_endpoint(options_.endpoint)) {
  if (options_.max_retries < 0) throw std::invalid_argument("remote backend: max_retries must be >= 0");
}

std::string RemoteBackend::name() const {
  return "remote:" + options_.endpoint;
}

Json RemoteBackend::request_body(const Json& prompt, const GenerationParams& params, const std::string& model,
                                 RemoteDialect dialect) const {
  Json body = Json::object();
  if (!model.empty()) body["model"] = model;
  body["prompt"] = prompt;
  body["max_tokens"] = params.max_tokens;
  body["temperature"] = as_decimal(params.temperature);
  body["top_p"] = as_decimal(params.top_p);
  // Extras vLLM and llama-server accept; sent only when set, since older vLLM rejects top_k 0 (it wants -1).
  if (params.top_k > 0) body["top_k"] = params.top_k;
  if (params.min_p > 0.0f) body["min_p"] = as_decimal(params.min_p);
  if (params.repetition_penalty != 1.0f) body["repetition_penalty"] = as_decimal(params.repetition_penalty);
  if (params.presence_penalty != 0.0f) body["presence_penalty"] = as_decimal(params.presence_penalty);
  body["seed"] = params.seed;
  if (!params.stop.empty()) body["stop"] = params.stop;
  // The protocol's markers must come back as text for the action parser.
  ask_for_special_tokens(body, dialect);
  if (!params.response_schema.is_null()) add_response_schema(body, dialect, params.response_schema);
  body["stream"] = options_.stream;
  if (options_.stream) body["stream_options"] = Json{{"include_usage", true}};
  return body;
}

RemoteBackend::ServerInfo RemoteBackend::server_info() {
  std::lock_guard lock(info_mutex_);
  if (have_info_) return info_;
  const std::string where = "remote backend (" + options_.endpoint + "): ";
  auto ask = [&]() -> Json {
    httplib::Client client(endpoint_.scheme_host_port);
    client.set_connection_timeout(options_.connect_timeout);
    client.set_read_timeout(options_.read_timeout);
    if (!options_.api_key.empty()) client.set_bearer_token_auth(options_.api_key);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    client.enable_server_certificate_verification(options_.verify_tls);
    if (!options_.ca_cert_file.empty()) client.set_ca_cert_path(options_.ca_cert_file);
#endif
    const httplib::Result result = client.Get(endpoint_.path_prefix + "/v1/models");
    if (!result) throw RetryableError(where + "cannot list the models (" + describe(result.error()) + ")");
    const std::string message = where + "listing models: HTTP " + std::to_string(result->status) + ": ";
    if (result->status >= 500) throw RetryableError(message + server_error_message(result->body));
    if (result->status != 200) {
      throw std::runtime_error(message + server_error_message(result->body) +
                               "; give the model name explicitly");
    }
    return Json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  };
  ServerInfo info;
  Json reply;
  if (options_.model.empty()) {
    // The name is needed: ask until the server answers.
    reply = with_retries(options_, ask);
    if (!reply.is_object() || !reply.contains("data") || !reply["data"].is_array() || reply["data"].empty() ||
        !reply["data"][0].is_object() || !reply["data"][0].contains("id") ||
        !reply["data"][0]["id"].is_string()) {
      throw std::runtime_error(where + "/v1/models did not list a model; give the model name explicitly");
    }
    info.model = reply["data"][0]["id"].get<std::string>();
  } else {
    // Only the dialect is asked for: one attempt; a server that cannot say stays unknown.
    info.model = options_.model;
    try {
      reply = ask();
    } catch (const RetryableError&) {
      return info;  // unreachable now: ask again next time
    } catch (const std::runtime_error&) {
      reply = nullptr;
    }
  }
  info.dialect = dialect_from_models(reply);
  if (options_.tokenizer && info.dialect == RemoteDialect::LlamaServer) {
    // llama-server says how large its vocabulary is: token ids of another vocabulary would be garbage.
    const Json meta = reply["data"][0].value("meta", Json::object());
    if (meta.is_object() && meta.contains("n_vocab") && meta["n_vocab"].is_number_integer() &&
        meta["n_vocab"].get<int>() != options_.tokenizer->vocab_size()) {
      token_ids_ok_ = false;
      say_once(warned_ids_, where + "the server's vocabulary has " +
                                std::to_string(meta["n_vocab"].get<int>()) + " tokens, the --tokenizer's " +
                                std::to_string(options_.tokenizer->vocab_size()) +
                                ": not the same model's tokenizer, so prompts go as text");
    }
  }
  info_ = info;
  have_info_ = true;
  return info_;
}

RemoteDialect RemoteBackend::dialect() {
  return server_info().dialect;
}

SchemaSupport RemoteBackend::response_schema_support() {
  try {
    return schema_support(server_info().dialect);
  } catch (const std::exception&) {
    return SchemaSupport::None;  // a server that cannot be asked cannot be relied on
  }
}

void RemoteBackend::say_once(std::atomic<bool>& said, const std::string& message) {
  if (said.exchange(true)) return;
  if (options_.warn) {
    options_.warn(message);
  } else {
    std::fprintf(stderr, "agentrt: warning: %s\n", message.c_str());
  }
}

void RemoteBackend::check_markers(const Completion& completion, RemoteDialect dialect) {
  if (saw_markers_.load() || warned_markers_.load()) return;
  if (has_protocol_marker(completion.text)) {
    saw_markers_ = true;  // the server returns them: nothing to watch any more
    return;
  }
  if (!looks_like_a_call_without_markers(completion.text)) return;
  say_once(warned_markers_, "remote backend (" + options_.endpoint +
                                "): a reply clearly meant a tool call (a code block or a {\"name\", "
                                "\"parameters\"} object) but holds none of the protocol's markers "
                                "(<|action_start|>, <|action_end|>, ...), so no tool will run: " +
                                missing_markers_fix(dialect));
}

Completion RemoteBackend::post(const std::string& body, const GenerationParams& params,
                               const ChunkCallback& on_chunk) {
  return with_retries(options_,
                      [&] { return CompletionExchange(options_, endpoint_, body, params, on_chunk).run(); });
}

Completion RemoteBackend::generate(const std::string& prompt, const GenerationParams& params,
                                   const ChunkCallback& on_chunk) {
  const ServerInfo info = server_info();
  if (!params.response_schema.is_null() &&
      (params.response_allows_calls || schema_support(info.dialect) == SchemaSupport::None)) {
    throw std::invalid_argument("remote backend (" + options_.endpoint + "): this server (" +
                                std::string(to_string(info.dialect)) +
                                ") cannot hold a reply to a JSON schema" +
                                (params.response_allows_calls ? " with a tool call allowed first" : ""));
  }
  // Replace, not throw, on invalid UTF-8: prompts carry tool output, which may hold arbitrary bytes.
  auto dump = [](const Json& body) { return body.dump(-1, ' ', false, Json::error_handler_t::replace); };
  const std::string text_body = dump(request_body(prompt, params, info.model, info.dialect));
  // Our own server takes text only; others are tried with ids until one refuses them.
  if (sends_token_ids() && info.dialect != RemoteDialect::AgentRT) {
    const std::vector<int32_t> ids = options_.tokenizer->encode(prompt, /*add_bos=*/true);
    try {
      Completion c = post(dump(request_body(Json(ids), params, info.model, info.dialect)), params, on_chunk);
      check_markers(c, info.dialect);
      return c;
    } catch (const ClientError& refused) {
      // Refused before any output: the same prompt as text decides whether ids were the trouble.
      Completion c = post(text_body, params, on_chunk);
      token_ids_ok_ = false;
      say_once(warned_ids_, "remote backend (" + options_.endpoint +
                                "): the server refused a prompt of token ids (" + refused.what() +
                                "); prompts go as text from now on");
      check_markers(c, info.dialect);
      return c;
    }
  }
  Completion c = post(text_body, params, on_chunk);
  check_markers(c, info.dialect);
  return c;
}

}  // namespace agentrt::agent
