// /v1/models, /v1/completions and /v1/chat/completions.
#include <atomic>

#include "apps/server/openai_request.h"
#include "apps/server/openai_response.h"
#include "apps/server/server_state.h"

namespace agentrt::server {
namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs one generation, recording its outcome; a request the backend refuses (std::invalid_argument, e.g. too
// long for the KV cache) becomes a 400, a backend failure a 502 with a server_error object.
agent::Completion generate(ServerState& s, const std::string& prompt, const agent::GenerationParams& params,
                           const agent::ChunkCallback& on_chunk) {
  try {
    agent::Completion c = s.model->generate(prompt, params, on_chunk);
    s.metrics.count_generation(c.finish_reason, c.prompt_tokens, c.completion_tokens);
    return c;
  } catch (const std::invalid_argument& e) {
    s.metrics.count_generation("error", 0, 0);
    throw ApiError(400, e.what(), "invalid_request_error", "", "invalid_request");
  } catch (const std::exception& e) {
    s.metrics.count_generation("error", 0, 0);
    throw ApiError(502, std::string("the model backend failed: ") + e.what(), "server_error", "",
                   "backend_error");
  }
}

// The error event a stream ends with when generation fails after the response began.
void stream_failure(ServerState& s, httplib::DataSink& sink, const ApiError& e) {
  s.metrics.count_error(e.type());
  sse_send(sink, e.body());
  sse_done(sink);
}

// Runs the body of a streamed response, which returns false when the client left (the connection is then
// dropped). A failure after the response began ends the stream with an error event.
template <typename Body>
bool stream_response(ServerState& s, httplib::DataSink& sink, Body&& body) {
  try {
    if (!body()) return false;
  } catch (const ApiError& e) {
    stream_failure(s, sink, e);
  } catch (const std::exception& e) {
    stream_failure(s, sink, ApiError(500, std::string("internal error: ") + e.what(), "server_error"));
  }
  sink.done();
  return true;
}

// Records a generation's time to its first text, once.
class FirstTextClock {
 public:
  FirstTextClock(ServerState& s, Clock::time_point t0) : s_(s), t0_(t0) {}
  void saw(const agent::TokenChunk& chunk) {
    if (first_ && !chunk.text.empty()) {
      first_ = false;
      s_.metrics.observe_time_to_first_token(seconds_since(t0_));
    }
  }

 private:
  ServerState& s_;
  Clock::time_point t0_;
  bool first_ = true;
};

// Watches a stream's writes: once one fails (the client went away) generation is told to stop.
// A stopping server counts as a client gone.
struct StreamWriter {
  httplib::DataSink& sink;
  const std::atomic<bool>& stopping;
  bool open = true;
  bool send(const Json& payload) {
    if (open) open = !stopping.load() && sse_send(sink, payload);
    return open;
  }
};

void completions(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto t0 = Clock::now();
  auto request =
      std::make_shared<CompletionRequest>(parse_completion_request(parse_body(req.body), s.model->id()));
  const std::string id = new_object_id("cmpl-");
  const long long created = unix_seconds();
  if (!request->sampling.stream) {
    FirstTextClock clock(s, t0);
    const auto c =
        generate(s, request->prompt, request->sampling.params, [&](const agent::TokenChunk& chunk) {
          clock.saw(chunk);
          return true;
        });
    reply_json(res, completion_response(id, request->sampling.model, created, c));
    return;
  }
  sse_headers(res);
  res.set_chunked_content_provider(
      "text/event-stream", [&s, request, id, created, t0](size_t, httplib::DataSink& sink) {
        return stream_response(s, sink, [&] {
          StreamWriter out{sink, s.stopping};
          FirstTextClock clock(s, t0);
          const std::string& model = request->sampling.model;
          const auto c =
              generate(s, request->prompt, request->sampling.params, [&](const agent::TokenChunk& chunk) {
                if (chunk.text.empty()) return out.open;
                clock.saw(chunk);
                return out.send(completion_chunk(id, model, created, chunk.text));
              });
          if (!out.open) return false;
          out.send(completion_chunk(id, model, created, "", c.finish_reason == "length" ? "length" : "stop"));
          if (request->sampling.include_usage) {
            Json last = completion_chunk(id, model, created, "");
            last["choices"] = Json::array();
            last["usage"] = usage_json(c);
            out.send(last);
          }
          if (out.open) sse_done(sink);
          return true;
        });
      });
}

void chat_completions(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto t0 = Clock::now();
  auto request = std::make_shared<ChatRequest>(parse_chat_request(parse_body(req.body), s.model->id()));
  auto prompt = std::make_shared<ChatPrompt>(build_chat_prompt(*request, s.options.flavor));
  const agent::GenerationParams params = chat_generation_params(
      *request, s.model->marker_ids(), s.options.constrain_tools, s.model->response_schema_support());
  if (!request->sampling.stream) {
    ChatReply reply(*request, prompt->prefill, s.model->marker_ids());
    FirstTextClock clock(s, t0);
    const auto c = generate(s, prompt->prompt, params, [&](const agent::TokenChunk& chunk) {
      clock.saw(chunk);
      reply.feed(chunk);
      return true;
    });
    reply_json(res, reply.finish_response(c));
    return;
  }
  sse_headers(res);
  res.set_chunked_content_provider(
      "text/event-stream", [&s, request, prompt, params, t0](size_t, httplib::DataSink& sink) {
        return stream_response(s, sink, [&] {
          StreamWriter out{sink, s.stopping};
          ChatReply reply(*request, prompt->prefill, s.model->marker_ids());
          FirstTextClock clock(s, t0);
          out.send(reply.role_chunk());
          const auto c = generate(s, prompt->prompt, params, [&](const agent::TokenChunk& chunk) {
            clock.saw(chunk);
            for (const auto& delta : reply.feed(chunk)) {
              if (!out.send(delta)) break;
            }
            return out.open;
          });
          if (!out.open) return false;  // the client left: generation was cancelled; drop the connection
          for (const auto& delta : reply.finish_stream(c)) out.send(delta);
          if (out.open) sse_done(sink);
          return true;
        });
      });
}

}  // namespace

void add_openai_routes(ServerState& s) {
  s.http.Get(
      "/v1/models", route(s, "/v1/models", [&s](const httplib::Request&, httplib::Response& res) {
        Json model{{"id", s.model->id()}, {"object", "model"}, {"created", 0}, {"owned_by", "agentrt"}};
        reply_json(res, Json{{"object", "list"}, {"data", Json::array({model})}});
      }));
  s.http.Get(
      R"(/v1/models/([^/]+))",
      route(s, "/v1/models/{id}", [&s](const httplib::Request& req, httplib::Response& res) {
        if (req.matches[1] != s.model->id()) {
          throw not_found("The model '" + req.matches[1].str() + "' does not exist", "model_not_found");
        }
        reply_json(res,
                   Json{{"id", s.model->id()}, {"object", "model"}, {"created", 0}, {"owned_by", "agentrt"}});
      }));
  s.http.Post("/v1/completions",
              route(s, "/v1/completions",
                    [&s](const httplib::Request& req, httplib::Response& res) { completions(s, req, res); }));
  s.http.Post("/v1/chat/completions",
              route(s, "/v1/chat/completions", [&s](const httplib::Request& req, httplib::Response& res) {
                chat_completions(s, req, res);
              }));
}

}  // namespace agentrt::server
