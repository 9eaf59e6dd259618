// The OpenAI-compatible HTTP server (`agentrt serve`): /v1/completions, /v1/chat/completions, /v1/models,
// /v1/agent/runs, sessions with their messages, traces and workspace files, /health, /metrics and the web
// page at `/`. It talks to the model only through a ServedModel.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/renderer.h"
#include "agent/schema.h"
#include "apps/server/served_model.h"
#include "apps/tool_set.h"

namespace agentrt::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: any free port (bind() tells which)
  // When set, every /v1/ request needs "Authorization: Bearer <key>"; /, /health and /metrics stay open.
  std::string api_key;
  // Browsers (apps/server/request_guard.h): host names clients may use besides localhost names, IP addresses
  // and `host` ("*": any), and the origins of other web pages allowed to call the API ("*": any).
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_origins;
  std::filesystem::path data_dir = "agentrt-data";  // the database and the sessions' workspaces
  std::filesystem::path db_path;                    // empty: data_dir/agentrt.db
  size_t max_body_bytes = 4u << 20;                 // JSON request bodies
  size_t max_upload_bytes = 32u << 20;              // one uploaded file
  int threads = 256;                                // connections served at once (each stream holds one)
  agent::Flavor flavor = agent::Flavor::InternLM2;
  // Agent runs: the tools offered (a request may name a subset; apps/tool_set.h builds each run's registry)
  // and the run's defaults.
  apps::ToolSet tools = apps::every_builtin_tool();
  int max_turns = 8;
  int max_parallel_tools = 4;  // calls of one turn run at once (a run's "parallel_tool_calls": false: 1)
  // Ask the backend to make tool calls valid by construction (chat requests with tools, agent runs); only
  // backends that sample themselves (the local engine) act on it.
  bool constrain_tools = false;
  int agent_max_tokens = 1024;
  std::string language = "en";
  // When set, each agent run is exported as OpenTelemetry spans over OTLP/HTTP to this collector
  // (apps/server/otlp_exporter.h), as the service `otlp_service_name`.
  std::string otlp_endpoint;
  std::string otlp_service_name = "agentrt";
  // More fields of /health's answer (`agentrt serve` adds "interpreter": its language and jail).
  Json health_details = Json::object();
};

struct ServerState;

class ApiServer {
 public:
  // Opens the database under the data folder; throws std::runtime_error when it cannot.
  ApiServer(std::shared_ptr<ServedModel> model, ServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket and returns the port; throws std::runtime_error when the address is taken.
  int bind();
  // Serves until stop() (call bind() first).
  void run();
  // Makes run() return; safe from another thread or a signal-watching thread.
  void stop();
  const ServerOptions& options() const;

 private:
  std::unique_ptr<ServerState> state_;
};

}  // namespace agentrt::server
