// `agentrt serve`: the OpenAI-compatible HTTP server with agent runs, stored sessions and the web page.
#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "apps/app_common.h"
#include "apps/command.h"
#include "apps/server/engine_served_model.h"
#include "apps/server/server.h"

namespace agentrt::apps {
namespace {

struct ServeFlags {
  BackendFlags backend;
  ToolFlags tools;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string api_key;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_origins;
  std::string db;
  std::string data_dir = "agentrt-data";
  std::string model_id = "agentrt";
  int http_threads = 256;
  bool constrain = false;
  // The local engine's continuous batching (engine/serving).
  int kv_cache_mib = 1024;
  int block_tokens = 16;
  int max_batch_tokens = 256;
  int max_running = 64;
  bool no_prefix_cache = false;

  std::string flavor = "internlm2";
  int max_turns = 8;
  int max_parallel_tools = 4;
  std::string otlp_endpoint;
  std::string otlp_service_name = "agentrt";
  size_t max_body_bytes = 4u << 20;
  size_t max_upload_bytes = 32u << 20;
};

int serve(const ServeFlags& f) {
  auto backend = make_backend(f.backend);
  std::shared_ptr<server::ServedModel> model;
  if (auto* local = dynamic_cast<agent::LocalEngineBackend*>(backend.get())) {
    // Our engine batches concurrent requests itself, over a paged KV cache with prefix reuse.
    engine::serving::SchedulerOptions so;
    so.kv_bytes = static_cast<std::size_t>(f.kv_cache_mib) << 20;
    so.block_tokens = f.block_tokens;
    so.max_step_tokens = f.max_batch_tokens;
    so.max_running = f.max_running;
    so.prefix_cache = !f.no_prefix_cache;
    if (local->can_serve()) {
      local->start_serving(so);  // bad options end the command with their message
    } else {
      std::fprintf(
          stderr, "agentrt serve: the engine backend has no paged KV cache; generations run one at a time\n");
    }
    if (local->serving() != nullptr) {
      backend.release();
      model = server::serve_local_engine(std::unique_ptr<agent::LocalEngineBackend>(local), f.model_id, so);
    }
  }
  if (!model) {
    // Remote and scripted backends run one generation at a time here: the server queues them.
    model = std::make_shared<server::SerialServedModel>(std::move(backend), f.model_id);
  }

  server::ServerOptions o;
  o.host = f.host;
  o.port = f.port;
  o.api_key = f.api_key;
  if (o.api_key.empty()) {
    if (const char* v = std::getenv("AGENTRT_SERVER_API_KEY"); v != nullptr) o.api_key = v;
  }
  o.allowed_hosts = f.allowed_hosts;
  o.allowed_origins = f.allowed_origins;
  o.data_dir = f.data_dir;
  o.db_path = f.db;
  o.threads = f.http_threads;
  o.constrain_tools = f.constrain;

  o.flavor = agent::flavor_from_string(f.flavor);
  o.max_turns = f.max_turns;
  o.max_parallel_tools = f.max_parallel_tools;
  o.otlp_endpoint = f.otlp_endpoint;
  o.otlp_service_name = f.otlp_service_name;
  o.max_body_bytes = f.max_body_bytes;
  o.max_upload_bytes = f.max_upload_bytes;
  // The same tools `run` offers for these flags: the model folder's own list by default, and MCP servers'.
  o.tools = make_tool_set(with_trained_tools(f.tools, f.backend));
  // The interpreter's language and jail, said at start and in /health (Python's zygote warms up meanwhile).
  const Json interpreter = prepare_interpreter(o.tools, o.data_dir);
  if (interpreter.is_object()) o.health_details["interpreter"] = interpreter;

  // A client that leaves mid-stream must cost its request, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  // SIGINT/SIGTERM end the server cleanly: they are taken by one thread, which stops it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::ApiServer api(model, o);
  const int port = api.bind();
  std::printf("agentrt serve: listening on http://%s:%d (model '%s' via %s; data in %s)\n", o.host.c_str(),
              port, model->id().c_str(),
              !f.backend.script.empty()     ? "the scripted backend"
              : !f.backend.endpoint.empty() ? "the remote endpoint"
                                            : "the local engine",
              o.data_dir.c_str());
  if (interpreter.is_object()) {
    std::printf("agentrt serve: interpreter: %s; %s\n", interpreter.value("language", std::string()).c_str(),
                interpreter.value("detail", std::string()).c_str());
  }
  std::fflush(stdout);
  std::thread watcher([&api, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    api.stop();
  });
  api.run();
  // The server stopped on its own (not by a signal): wake the watcher so it can end.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  return 0;
}

const CommandRegistrar reg(40, [](CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve the model over an OpenAI-compatible HTTP API, with agent runs and a web page");
  add_backend_flags(cmd, f->backend, /*api_key_alias=*/false);
  cmd->add_option("--kv-cache-mib", f->kv_cache_mib, "KV cache pool of the local engine, in MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--block-tokens", f->block_tokens, "Positions per KV cache block")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-batch-tokens", f->max_batch_tokens,
                  "Tokens per forward pass of the local engine (decodes first, then prompt chunks)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--max-running", f->max_running, "Requests batched together at once by the local engine")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_flag("--no-prefix-cache", f->no_prefix_cache, "Do not re-use KV blocks of earlier prompts");
  cmd->add_option("--host", f->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", f->port, "Port to listen on (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option(
      "--api-key", f->api_key,
      "Key clients must send as 'Authorization: Bearer KEY' (default: $AGENTRT_SERVER_API_KEY; none: open)");
  cmd->add_option(
         "--allowed-hosts", f->allowed_hosts,
         "Host names clients may reach the server by, besides localhost names, IP addresses and --host "
         "(comma-separated; '*' for any; '.example.org' for a domain): other Host headers get a 403, "
         "which stops DNS-rebinding pages")
      ->delimiter(',');
  cmd->add_option("--allowed-origins", f->allowed_origins,
                  "Origins of other web pages allowed to call the API from a browser, e.g. "
                  "https://app.example.org (comma-separated; '*' for any); the server's own page is always "
                  "allowed, other cross-origin browser requests get a 403")
      ->delimiter(',');
  cmd->add_option("--data-dir", f->data_dir, "Folder for the session database and the sessions' workspaces")
      ->capture_default_str();
  cmd->add_option("--db", f->db, "Session database file (default: DATA_DIR/agentrt.db)");
  cmd->add_option("--served-model-name", f->model_id, "Model name clients pass and /v1/models lists")
      ->capture_default_str();
  cmd->add_option("--http-threads", f->http_threads, "Connections served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--flavor", f->flavor, "Prompt flavour: internlm2 or lmdeploy")
      ->capture_default_str()
      ->check(CLI::IsMember({"internlm2", "lmdeploy"}));
  // Each session's files live in its own folder under --data-dir: no --workspace.
  add_tool_flags(cmd, f->tools, /*with_list=*/true, /*with_workspace=*/false);
  cmd->add_flag(
      "--constrain-tools", f->constrain,
      "Make tool calls valid by construction (the sampler follows each tool's JSON schema; local models)");
  cmd->add_option("--max-turns", f->max_turns, "Default model turns of an agent run")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-parallel-tools", f->max_parallel_tools,
                  "Tool calls of one model turn that agent runs execute at once (1: one after another)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option(
      "--otlp-endpoint", f->otlp_endpoint,
      "OpenTelemetry collector (OTLP/HTTP, e.g. http://127.0.0.1:4318): each agent run is exported "
      "as spans (run, turns, generations, tool calls)");
  cmd->add_option("--otlp-service-name", f->otlp_service_name, "service.name of the exported spans")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", f->max_body_bytes, "Largest JSON request body")->capture_default_str();
  cmd->add_option("--max-upload-bytes", f->max_upload_bytes, "Largest uploaded file")->capture_default_str();
  cmd->callback([f] {
    const int status = serve(*f);
    if (status != 0) throw CommandExit{status};
  });
});

}  // namespace
}  // namespace agentrt::apps
