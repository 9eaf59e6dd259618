// /v1/agent/runs: a whole agent run on the server (agent::Session with the built-in tools) inside a stored
// session, its trace events streamed as server-sent events while they happen and stored as they happen.
#include <algorithm>
#include <optional>

#include "agent/session.h"
#include "apps/app_common.h"
#include "apps/server/openai_request.h"
#include "apps/server/run_spans.h"
#include "apps/server/server_state.h"
#include "apps/tool_set.h"

namespace agentrt::server {
namespace {

struct RunRequest {
  std::string task;
  std::string session_id;  // "" → a new session
  bool stream = true;
  int max_turns = 8;
  bool plan = false;
  std::string language = "en";
  int max_tokens = 1024;
  float temperature = 0;
  bool parallel_tool_calls = true;                // false: a turn's calls run one after another
  std::optional<std::vector<std::string>> tools;  // unset: every tool the server offers
  std::string interpreter;                        // "lua" | "python"; "": the server's
};

RunRequest parse_run_request(const Json& body, const ServerOptions& o) {
  RunRequest r;
  r.max_turns = o.max_turns;
  r.language = o.language;
  r.max_tokens = o.agent_max_tokens;
  if (!body.contains("task")) throw bad_request("'task' is required", "task", "missing_required_parameter");
  if (!body["task"].is_string()) throw bad_request("'task' must be a string", "task", "invalid_type");
  r.task = body["task"].get<std::string>();
  if (r.task.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw bad_request("'task' must not be empty", "task", "invalid_value");
  }
  auto field = [&](const char* name, auto check, const char* expected) -> const Json* {
    if (!body.contains(name) || body[name].is_null()) return nullptr;
    if (!check(body[name]))
      throw bad_request(std::string("'") + name + "' must be " + expected, name, "invalid_type");
    return &body[name];
  };
  if (auto* v = field(
          "session_id", [](const Json& j) { return j.is_string(); }, "a string")) {
    r.session_id = v->get<std::string>();
  }
  if (auto* v = field(
          "stream", [](const Json& j) { return j.is_boolean(); }, "a boolean"))
    r.stream = v->get<bool>();
  if (auto* v = field(
          "plan", [](const Json& j) { return j.is_boolean(); }, "a boolean"))
    r.plan = v->get<bool>();
  if (auto* v = field(
          "parallel_tool_calls", [](const Json& j) { return j.is_boolean(); }, "a boolean"))
    r.parallel_tool_calls = v->get<bool>();
  if (auto* v = field(
          "max_turns", [](const Json& j) { return j.is_number_integer(); }, "an integer")) {
    const auto n = v->get<long long>();
    if (n < 1 || n > 64)
      throw bad_request("'max_turns' must be between 1 and 64", "max_turns", "invalid_value");
    r.max_turns = static_cast<int>(n);
  }
  if (auto* v = field(
          "max_tokens", [](const Json& j) { return j.is_number_integer(); }, "an integer")) {
    const auto n = v->get<long long>();
    if (n < 1 || n > (1 << 20))
      throw bad_request("'max_tokens' must be between 1 and 1048576", "max_tokens", "invalid_value");
    r.max_tokens = static_cast<int>(n);
  }
  if (auto* v = field(
          "temperature", [](const Json& j) { return j.is_number(); }, "a number")) {
    const double t = v->get<double>();
    if (t < 0 || t > 2)
      throw bad_request("'temperature' must be between 0 and 2", "temperature", "invalid_value");
    r.temperature = static_cast<float>(t);
  }
  if (auto* v = field(
          "language", [](const Json& j) { return j.is_string(); }, "a string")) {
    r.language = v->get<std::string>();
    if (r.language != "en" && r.language != "zh") {
      throw bad_request("'language' must be \"en\" or \"zh\"", "language", "invalid_value");
    }
  }
  if (auto* v = field(
          "interpreter", [](const Json& j) { return j.is_string(); }, "a string")) {
    r.interpreter = v->get<std::string>();
    if (r.interpreter != "lua" && r.interpreter != "python") {
      throw bad_request("'interpreter' must be \"lua\" or \"python\"", "interpreter", "invalid_value");
    }
  }
  if (auto* v = field(
          "tools", [](const Json& j) { return j.is_array(); }, "a list of tool names")) {
    r.tools.emplace();  // an explicit empty list: no tools at all
    const auto offered = o.tools.names();
    for (const auto& t : *v) {
      if (!t.is_string()) throw bad_request("'tools' must be a list of tool names", "tools", "invalid_type");
      const auto name = t.get<std::string>();
      if (std::find(offered.begin(), offered.end(), name) == offered.end()) {
        std::string list;
        for (const auto& k : offered) list += (list.empty() ? "" : ", ") + k;
        throw bad_request(
            "unknown tool '" + name + "' (tools this server offers: " + (list.empty() ? "none" : list) + ")",
            "tools", "invalid_value");
      }
      r.tools->push_back(name);
    }
  }
  return r;
}

// Stores each trace event of a run (and the run itself, at its first event) and hands it on.
class StoringTraceSink : public agent::TraceSink {
 public:
  StoringTraceSink(SessionStore& store, std::string session_id, std::string task,
                   std::function<void(const Json&)> forward)
      : store_(store),
        session_id_(std::move(session_id)),
        task_(std::move(task)),
        forward_(std::move(forward)) {}
  void emit(const Json& event) override {
    const std::string run_id = event.value("run_id", "");
    if (!run_id.empty() && run_id != run_id_) {
      run_id_ = run_id;
      store_.begin_run(session_id_, run_id_, task_);
    }
    store_.append_trace(session_id_, run_id_, event);
    if (forward_) forward_(event);
  }

 private:
  SessionStore& store_;
  std::string session_id_;
  std::string task_;
  std::string run_id_;
  std::function<void(const Json&)> forward_;
};

// Holds a session for one run: two runs of a session at once would interleave its history.
class SessionClaim {
 public:
  SessionClaim(ServerState& s, std::string id) : s_(s), id_(std::move(id)) {
    std::lock_guard lock(s_.busy_mutex);
    if (!s_.busy_sessions.insert(id_).second) {
      throw conflict("session '" + id_ + "' already has a run in progress; wait for it to finish");
    }
  }
  ~SessionClaim() {
    std::lock_guard lock(s_.busy_mutex);
    s_.busy_sessions.erase(id_);
  }
  SessionClaim(const SessionClaim&) = delete;
  SessionClaim& operator=(const SessionClaim&) = delete;

 private:
  ServerState& s_;
  std::string id_;
};

// The model as the session sees it: generations of agent runs are counted in the metrics like any other.
class CountingBackend : public agent::LLMBackend {
 public:
  CountingBackend(ServedModel& model, ServerMetrics& metrics) : model_(model), metrics_(metrics) {}
  std::string name() const override { return model_.id(); }
  agent::MarkerIds marker_ids() const override { return model_.marker_ids(); }
  agent::SchemaSupport response_schema_support() override { return model_.response_schema_support(); }
  agent::Completion generate(const std::string& prompt, const agent::GenerationParams& params,
                             const agent::ChunkCallback& on_chunk) override {
    const auto start = RunSpanRecorder::WallClock::now();
    try {
      agent::Completion c = model_.generate(prompt, params, on_chunk);
      metrics_.count_generation(c.finish_reason, c.prompt_tokens, c.completion_tokens);
      if (spans) spans->generation(start, RunSpanRecorder::WallClock::now(), params, &c, "");
      return c;
    } catch (const std::exception& e) {
      metrics_.count_generation("error", 0, 0);
      if (spans) spans->generation(start, RunSpanRecorder::WallClock::now(), params, nullptr, e.what());
      throw;
    }
  }
  RunSpanRecorder* spans = nullptr;  // with --otlp-endpoint: the run's spans, told of every generation

 private:
  ServedModel& model_;
  ServerMetrics& metrics_;
};

// Everything one run needs, kept alive until its stream ends.
struct RunJob {
  RunRequest request;
  std::unique_ptr<SessionClaim> claim;
  std::unique_ptr<agent::ToolRegistry> registry;
  CountingBackend backend;
  std::filesystem::path workspace;

  RunJob(ServerState& s, RunRequest r) : request(std::move(r)), backend(*s.model, s.metrics) {}
};

Json result_json(const std::string& session_id, const agent::RunResult& r) {
  return Json{{"session_id", session_id},
              {"run_id", r.run_id},
              {"answer", r.answer},
              {"turns", r.turns},
              {"tool_calls", r.tool_calls},
              {"forced_answer", r.forced_answer},
              {"cancelled", r.cancelled},
              {"error", r.error.empty() ? Json(nullptr) : Json(r.error)},
              {"plan", r.plan}};
}

// Runs the job to its end; `forward` gets every trace event and `on_text` the model's text as it streams.
agent::RunResult execute(ServerState& s, RunJob& job, const std::function<void(const Json&)>& forward,
                         const std::function<void(std::string_view)>& on_text, agent::Session** live) {
  const auto& r = job.request;
  agent::SessionOptions so;
  so.flavor = s.options.flavor;
  so.max_turns = r.max_turns;
  so.plan_first = r.plan;
  so.constrain_tools = s.options.constrain_tools;
  so.language = r.language;
  so.generation.max_tokens = r.max_tokens;
  so.generation.temperature = r.temperature;
  so.max_parallel_tools = r.parallel_tool_calls ? s.options.max_parallel_tools : 1;
  so.workspace = job.workspace;
  so.session_id = r.session_id;
  // With --otlp-endpoint the run's events and generations also become its spans, handed to the exporter at
  // the end (which never blocks the run).
  std::optional<RunSpanRecorder> spans;
  if (s.otlp) spans.emplace(s.model->id(), r.session_id);
  job.backend.spans = spans ? &*spans : nullptr;
  StoringTraceSink sink(*s.store, r.session_id, r.task, [&](const Json& event) {
    if (spans) spans->event(event);
    if (forward) forward(event);
  });
  agent::Session session(job.backend, *job.registry, so, &sink);
  session.set_history(s.store->messages(r.session_id));
  if (live != nullptr) *live = &session;
  agent::RunObserver observer;
  observer.on_text = on_text;
  agent::RunResult result = session.run(r.task, observer);
  if (live != nullptr) *live = nullptr;
  job.backend.spans = nullptr;
  if (spans) s.otlp->export_spans(spans->finish(result));
  // What the run added is stored before the answer goes out.
  s.store->save_messages(r.session_id, session.history());
  if (!result.run_id.empty()) {
    s.store->begin_run(r.session_id, result.run_id, r.task);
    const std::string outcome = result.cancelled ? "cancelled" : !result.error.empty() ? "error" : "answered";
    s.store->end_run(result.run_id, outcome, result.answer, result.error);
    s.metrics.count_agent_run(outcome);
  }
  return result;
}

void agent_run(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  auto job = std::make_shared<RunJob>(s, parse_run_request(parse_body(req.body), s.options));
  auto& r = job->request;
  if (r.session_id.empty()) {
    std::string title = r.task.substr(0, 80);
    r.session_id = s.store->create_session(title).id;
  } else if (!s.store->find_session(r.session_id)) {
    throw not_found("no session '" + r.session_id + "'");
  }
  job->claim = std::make_unique<SessionClaim>(s, r.session_id);
  job->workspace = s.workspace_of(r.session_id);
  std::filesystem::create_directories(job->workspace);
  apps::ToolSet tools = s.options.tools;
  if (!r.interpreter.empty()) {
    // The run's own interpreter language; refused up front where this server cannot run it.
    Json& settings = tools.settings["interpreter"];
    if (!settings.is_object()) settings = Json::object();
    settings["language"] = r.interpreter;
    const Json status = apps::prepare_interpreter(tools, job->workspace);
    if (status.is_object() && !status.value("available", true)) {
      throw bad_request(status.value("detail", std::string()), "interpreter", "invalid_value");
    }
  }
  try {
    job->registry = r.tools ? apps::make_registry(tools, job->workspace, *r.tools)
                            : apps::make_registry(tools, job->workspace);
  } catch (const std::invalid_argument& e) {
    throw bad_request(e.what(), "tools", "invalid_value");
  }

  if (!r.stream) {
    const auto result = execute(s, *job, nullptr, nullptr, nullptr);
    Json out = result_json(r.session_id, result);
    Json events = Json::array();
    for (auto& e : s.store->trace(r.session_id, result.run_id)) events.push_back(std::move(e));
    out["trace"] = events;
    reply_json(res, out);
    return;
  }
  sse_headers(res);
  res.set_chunked_content_provider("text/event-stream", [&s, job](size_t, httplib::DataSink& sink) {
    agent::Session* live = nullptr;
    bool open = true;
    // A failed write means the client left: the run is cancelled (generation cut, no further tool runs).
    auto send = [&](const Json& payload) {
      if (open && (s.stopping.load() || !sse_send(sink, payload))) {
        open = false;
        if (live != nullptr) live->cancel();
      }
    };
    send(Json{{"type", "session"}, {"session_id", job->request.session_id}});
    agent::RunResult result;
    try {
      result = execute(
          s, *job,
          [&](const Json& event) {
            send(Json{{"type", "trace"}, {"event", event}});
          },
          [&](std::string_view text) {
            send(Json{{"type", "text"}, {"text", text}});
          },
          &live);
    } catch (const std::exception& e) {
      s.metrics.count_error("server_error");
      send(error_body(std::string("the run failed: ") + e.what(), "server_error"));
      open = open && sse_done(sink);
      sink.done();
      return true;
    }
    if (!open) return false;
    Json done = result_json(job->request.session_id, result);
    done["type"] = "done";
    send(done);
    if (open) sse_done(sink);
    sink.done();
    return true;
  });
}

}  // namespace

void add_agent_routes(ServerState& s) {
  s.http.Post("/v1/agent/runs",
              route(s, "/v1/agent/runs",
                    [&s](const httplib::Request& req, httplib::Response& res) { agent_run(s, req, res); }));
}

}  // namespace agentrt::server
