#include "apps/server/server.h"

#include <sys/socket.h>

#include "apps/server/server_state.h"

namespace agentrt::server {
namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Compares in time independent of where the strings differ, so the key cannot be guessed byte by byte.
bool same_secret(const std::string& given, const std::string& key) {
  if (given.size() != key.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  return diff == 0;
}

// Upload routes take files; everything else takes JSON bodies.
bool is_upload(const httplib::Request& req) {
  return req.method == "POST" && req.path.size() > 6 &&
         req.path.compare(req.path.size() - 6, 6, "/files") == 0;
}

std::string status_message(int status) {
  switch (status) {
    case 404:
      return "no such route";
    case 405:
      return "method not allowed on this route";
    case 413:
      return "the request body is too large";
    case 414:
      return "the request URI is too long";
    default:
      return "the request could not be handled";
  }
}

}  // namespace

void reply_json(httplib::Response& res, const Json& value, int status) {
  res.status = status;
  res.set_content(value.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, const ApiError& error) {
  reply_json(res, error.body(), error.status());
}

bool sse_send(httplib::DataSink& sink, const Json& payload) {
  const std::string event = "data: " + payload.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
  return sink.write(event.data(), event.size());
}

bool sse_done(httplib::DataSink& sink) {
  static constexpr std::string_view kDone = "data: [DONE]\n\n";
  return sink.write(kDone.data(), kDone.size());
}

void sse_headers(httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
}

httplib::Server::Handler route(ServerState& state, std::string route_name, RouteBody body) {
  return [&state, route_name = std::move(route_name), body = std::move(body)](const httplib::Request& req,
                                                                              httplib::Response& res) {
    try {
      body(req, res);
    } catch (const ApiError& e) {
      reply_error(res, e);
      state.metrics.count_error(e.type());
    } catch (const std::exception& e) {
      reply_json(res, error_body(std::string("internal error: ") + e.what(), "server_error"), 500);
      state.metrics.count_error("server_error");
    }
    // A streamed answer has no status yet: httplib sends 200 with its first bytes.
    state.metrics.count_request(route_name, res.status == -1 ? 200 : res.status);
  };
}

bool HttpServer::widen_backlog(int backlog) {
  // listen() on a listening socket only updates its backlog.
  return ::listen(svr_sock_, backlog) == 0;
}

ApiServer::ApiServer(std::shared_ptr<ServedModel> model, ServerOptions options)
    : state_(std::make_unique<ServerState>()) {
  auto& s = *state_;
  s.options = std::move(options);
  s.model = std::move(model);
  if (s.options.db_path.empty()) s.options.db_path = s.options.data_dir / "agentrt.db";
  std::error_code ec;
  std::filesystem::create_directories(s.options.data_dir / "workspaces", ec);
  if (ec) {
    throw std::runtime_error("cannot create the data folder '" + s.options.data_dir.string() +
                             "': " + ec.message());
  }
  s.store = std::make_unique<SessionStore>(s.options.db_path);
  if (!s.options.otlp_endpoint.empty()) {
    OtlpExporterOptions eo;
    eo.endpoint = s.options.otlp_endpoint;
    eo.service_name = s.options.otlp_service_name;
    s.otlp = std::make_unique<OtlpExporter>(eo);
  }

  const int threads = std::max(1, s.options.threads);
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.http.set_payload_max_length(std::max(s.options.max_body_bytes, s.options.max_upload_bytes) + (64u << 10));
  s.http.set_read_timeout(std::chrono::seconds(60));
  s.http.set_write_timeout(std::chrono::seconds(60));
  s.http.set_tcp_nodelay(true);

  s.guard = std::make_unique<RequestGuard>(
      RequestGuardOptions{s.options.host, s.options.allowed_hosts, s.options.allowed_origins});

  s.http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    using R = httplib::Server::HandlerResponse;
    // Browsers first: a page on another origin (or a rebound host name) gets a 403 before anything runs.
    GuardedRequest g{req.method,
                     req.path,
                     req.get_header_value("Host"),
                     req.get_header_value("Origin"),
                     req.get_header_value("Sec-Fetch-Site"),
                     req.get_header_value("Sec-Fetch-Mode"),
                     req.get_header_value("Content-Type"),
                     is_upload(req)};
    const bool preflight = req.method == "OPTIONS";
    if (preflight) g.method = "GET";  // judged as the request it announces (content type aside)
    if (auto refused = s.guard->check(g)) {
      reply_error(res, *refused);
      s.metrics.count_error("invalid_request_error");
      s.metrics.count_request("forbidden", 403);
      return R::Handled;
    }
    if (!g.origin.empty() && s.guard->cors_origin(g.origin)) {
      res.set_header("Access-Control-Allow-Origin", g.origin);
      res.set_header("Vary", "Origin");
    }
    if (preflight) {
      // Only origins given with --allowed-origins get this far with an Origin header (a page never
      // preflights its own origin).
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Max-Age", "600");
      s.metrics.count_request("preflight", 204);
      return R::Handled;
    }
    if (!s.options.api_key.empty() && starts_with(req.path, "/v1/")) {
      const std::string auth = req.get_header_value("Authorization");
      if (auth.empty()) {
        reply_error(res, unauthorized("missing API key: send the header 'Authorization: Bearer <key>'"));
      } else if (!starts_with(auth, "Bearer ") || !same_secret(auth.substr(7), s.options.api_key)) {
        reply_error(res, unauthorized("incorrect API key"));
      }
      if (res.status == 401) {
        s.metrics.count_error("authentication_error");
        s.metrics.count_request("unauthorized", 401);
        return R::Handled;
      }
    }
    const size_t limit = is_upload(req) ? s.options.max_upload_bytes + (64u << 10) : s.options.max_body_bytes;
    if (req.has_header("Content-Length") && req.get_header_value<uint64_t>("Content-Length") > limit) {
      reply_error(res, payload_too_large("the request body is larger than the limit of " +
                                         std::to_string(limit) + " bytes"));
      res.set_header("Connection", "close");
      s.metrics.count_error("invalid_request_error");
      s.metrics.count_request("too_large", 413);
      return R::Handled;
    }
    return R::Unhandled;
  });
  // Answers httplib produces itself (no route, body over the hard limit) get the same error objects.
  s.http.set_error_handler(
      httplib::Server::HandlerWithResponse([&s](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty() || res.status < 400) return httplib::Server::HandlerResponse::Unhandled;
        reply_json(res,
                   error_body(status_message(res.status), "invalid_request_error", "",
                              res.status == 404 ? "not_found" : ""),
                   res.status);
        s.metrics.count_request("other", res.status);
        return httplib::Server::HandlerResponse::Handled;
      }));

  s.http.Get("/health", route(s, "/health", [&s](const httplib::Request&, httplib::Response& res) {
               Json health{{"status", "ok"}, {"model", s.model->id()}};
               for (const auto& [key, value] : s.options.health_details.items()) health[key] = value;
               reply_json(res, health);
             }));
  s.http.Get("/metrics", route(s, "/metrics", [&s](const httplib::Request&, httplib::Response& res) {
               res.set_content(s.metrics.render(*s.model) + (s.otlp ? s.otlp->metrics_text() : ""),
                               "text/plain; version=0.0.4; charset=utf-8");
             }));
  add_openai_routes(s);
  add_agent_routes(s);
  add_session_routes(s);
  add_web_routes(s);
}

ApiServer::~ApiServer() {
  stop();
}

int ApiServer::bind() {
  auto& s = *state_;
  int port = s.options.port;
  if (port == 0) {
    port = s.http.bind_to_any_port(s.options.host);
    if (port < 0) throw std::runtime_error("cannot listen on " + s.options.host + " (no free port)");
  } else if (!s.http.bind_to_port(s.options.host, port)) {
    throw std::runtime_error("cannot listen on " + s.options.host + ":" + std::to_string(port) +
                             " (address in use or not available)");
  }
  // As many pending connections as connections served at once (the kernel caps it at somaxconn).
  if (!s.http.widen_backlog(std::max(64, s.options.threads))) {
    throw std::runtime_error("cannot listen on " + s.options.host + ":" + std::to_string(port));
  }
  return port;
}

void ApiServer::run() {
  state_->http.listen_after_bind();
}

void ApiServer::stop() {
  state_->stopping = true;
  state_->http.stop();
}

const ServerOptions& ApiServer::options() const {
  return state_->options;
}

}  // namespace agentrt::server
