// What every route of the server shares (internal to apps/server): the HTTP server, the model, the options,
// metrics, the session store, and the sessions that have a run in progress. Also the small helpers routes use
// to answer: JSON replies, server-sent events, and the wrapper that turns exceptions into OpenAI error
// objects.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "apps/server/api_error.h"
#include "apps/server/metrics.h"
#include "apps/server/otlp_exporter.h"
#include "apps/server/request_guard.h"
#include "apps/server/server.h"
#include "apps/server/session_store.h"

namespace agentrt::server {

// cpp-httplib as packaged listens with a backlog of 5 connections: a burst of clients connecting at once
// would see resets or one-second SYN retries. This widens the backlog of the bound socket.
class HttpServer : public httplib::Server {
 public:
  // Call after binding; false when the socket refused.
  bool widen_backlog(int backlog);
};

struct ServerState {
  ServerOptions options;
  std::shared_ptr<ServedModel> model;
  ServerMetrics metrics;
  std::unique_ptr<SessionStore> store;
  std::unique_ptr<RequestGuard> guard;
  std::unique_ptr<OtlpExporter> otlp;  // null without --otlp-endpoint
  HttpServer http;

  std::mutex busy_mutex;
  std::set<std::string> busy_sessions;  // sessions with an agent run in progress

  // Set by ApiServer::stop(): running streams end (their generations are cancelled) so the server can stop.
  std::atomic<bool> stopping{false};

  std::filesystem::path workspace_of(const std::string& session_id) const {
    return options.data_dir / "workspaces" / session_id;
  }
};

using Clock = std::chrono::steady_clock;

// A route body: fills the response or throws (ApiError for client errors).
using RouteBody = std::function<void(const httplib::Request&, httplib::Response&)>;
// Wraps a route body: ApiError → its status and error object, other exceptions → 500 with a server_error
// object; counts the request under `route` in the metrics.
httplib::Server::Handler route(ServerState& state, std::string route_name, RouteBody body);

void reply_json(httplib::Response& res, const Json& value, int status = 200);
void reply_error(httplib::Response& res, const ApiError& error);

// Writes one server-sent event "data: <json>\n\n"; false when the client is gone.
bool sse_send(httplib::DataSink& sink, const Json& payload);
// Writes the stream's end marker "data: [DONE]\n\n".
bool sse_done(httplib::DataSink& sink);
// Headers of an event stream (no caching, no proxy buffering).
void sse_headers(httplib::Response& res);

// A route's groups.
void add_openai_routes(ServerState& state);
void add_agent_routes(ServerState& state);
void add_session_routes(ServerState& state);
void add_web_routes(ServerState& state);

}  // namespace agentrt::server
