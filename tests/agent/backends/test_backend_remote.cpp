// RemoteBackend against a local OpenAI-compatible stand-in (cpp-httplib on 127.0.0.1, any free port).
#include "agent/backends/backend_remote.h"
#include "engine/tokenizer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace agentrt::agent {
namespace {

using namespace std::chrono_literals;

// A server whose handlers the test registers before start(); it records every request to /v1/completions.
class FakeServer {
 public:
  FakeServer() { port_ = http_.bind_to_any_port("127.0.0.1"); }
  ~FakeServer() {
    stopping_ = true;
    http_.stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Server& http() { return http_; }
  void start() {
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs; the destructor relies on it.
    while (!http_.is_running()) std::this_thread::sleep_for(1ms);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool stopping() const { return stopping_; }

  // Registers `handler` for POST {prefix}/v1/completions, recording the request first.
  void on_completions(std::function<void(const httplib::Request&, httplib::Response&)> handler,
                      const std::string& prefix = "") {
    http_.Post(prefix + "/v1/completions",
               [this, handler](const httplib::Request& req, httplib::Response& res) {
                 {
                   std::lock_guard lock(mutex_);
                   requests_.push_back(req);
                 }
                 ++hits_;
                 handler(req, res);
               });
  }
  int hits() const { return hits_; }
  httplib::Request request(size_t i) {
    std::lock_guard lock(mutex_);
    return requests_.at(i);
  }

  // Sleeps up to `limit`, returning early when the server shuts down.
  void stall(std::chrono::milliseconds limit) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!stopping_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  }

 private:
  httplib::Server http_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> hits_{0};
  std::mutex mutex_;
  std::vector<httplib::Request> requests_;
};

std::string sse(const Json& event) {
  return "data: " + event.dump() + "\n\n";
}

std::string text_event(const std::string& text, const Json& finish_reason = nullptr) {
  return sse(
      Json{{"id", "cmpl-1"},
           {"object", "text_completion"},
           {"choices", Json::array({Json{{"index", 0}, {"text", text}, {"finish_reason", finish_reason}}})}});
}

std::string usage_event(int prompt_tokens, int completion_tokens) {
  return sse(
      Json{{"id", "cmpl-1"},
           {"choices", Json::array()},
           {"usage", Json{{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}}}});
}

const std::string kDone = "data: [DONE]\n\n";

// Streams `body` in pieces of `piece` bytes with a short pause between them, so events arrive split across
// reads.
void stream_in_pieces(httplib::Response& res, std::string body, size_t piece) {
  res.set_chunked_content_provider("text/event-stream",
                                   [body, piece](size_t offset, httplib::DataSink& sink) {
                                     if (offset >= body.size()) {
                                       sink.done();
                                       return true;
                                     }
                                     std::this_thread::sleep_for(1ms);
                                     const size_t size = std::min(piece, body.size() - offset);
                                     return sink.write(body.data() + offset, size);
                                   });
}

RemoteBackendOptions fast_options(const FakeServer& server) {
  RemoteBackendOptions options;
  options.endpoint = server.url();
  options.model = "internlm2-chat";
  options.connect_timeout = 300ms;
  options.read_timeout = 300ms;
  options.max_retries = 2;
  options.initial_backoff = 5ms;
  options.max_backoff = 20ms;
  return options;
}

struct Streamed {
  std::vector<std::string> chunks;
  ChunkCallback callback() {
    return [this](const TokenChunk& chunk) {
      chunks.push_back(chunk.text);
      return true;
    };
  }
  std::string joined() const {
    std::string text;
    for (const auto& chunk : chunks) text += chunk;
    return text;
  }
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no error)";
}

// A port nothing listens on: bound once to get a free number, then closed again.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("cannot bind a probe socket");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RemoteBackend, StreamsTextFinishReasonAndUsageSplitAcrossReads) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res,
                     ": keep-alive\n\n" + text_event("Hel") + text_event("lo, ") +
                         text_event("world", "length") + usage_event(12, 3) + kDone,
                     7);
  });
  server.start();
  RemoteBackend backend(fast_options(server));
  Streamed streamed;
  const Completion completion = backend.generate("<|im_start|>user\nhi<|im_end|>\n", {}, streamed.callback());
  EXPECT_EQ(streamed.chunks, (std::vector<std::string>{"Hel", "lo, ", "world"}));
  EXPECT_EQ(completion.text, "Hello, world");
  EXPECT_EQ(completion.finish_reason, "length");
  EXPECT_EQ(completion.prompt_tokens, 12);
  EXPECT_EQ(completion.completion_tokens, 3);
  EXPECT_TRUE(completion.ids.empty());
  EXPECT_TRUE(backend.marker_ids().empty());
}

TEST(RemoteBackend, SendsTheOpenAiCompletionsRequest) {
  FakeServer server;
  server.on_completions(
      [](const httplib::Request&, httplib::Response& res) {
        stream_in_pieces(res, text_event("x", "stop") + kDone, 64);
      },
      "/api");
  server.start();
  RemoteBackendOptions options = fast_options(server);
  options.endpoint = server.url() + "/api/v1/";
  options.api_key = "sk-test";
  RemoteBackend backend(options);
  GenerationParams params;
  params.max_tokens = 321;
  params.temperature = 0.7f;
  params.top_p = 0.8f;
  params.top_k = 40;
  params.min_p = 0.05f;
  params.repetition_penalty = 1.02f;
  params.seed = 1234;
  params.stop = {"<|im_end|>", "<|action_start|>"};
  const std::string prompt = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n";
  backend.generate(prompt, params, nullptr);

  ASSERT_EQ(server.hits(), 1);
  const httplib::Request request = server.request(0);
  EXPECT_EQ(request.path, "/api/v1/completions");
  EXPECT_EQ(request.get_header_value("Authorization"), "Bearer sk-test");
  EXPECT_EQ(request.get_header_value("Content-Type"), "application/json");
  const Json body = Json::parse(request.body);
  EXPECT_EQ(body["model"], "internlm2-chat");
  EXPECT_EQ(body["prompt"], prompt);
  EXPECT_EQ(body["max_tokens"], 321);
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(body["top_p"].get<double>(), 0.8);
  EXPECT_EQ(body["top_k"], 40);
  EXPECT_DOUBLE_EQ(body["min_p"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(body["repetition_penalty"].get<double>(), 1.02);
  EXPECT_EQ(body["seed"], 1234);
  EXPECT_EQ(body["stop"], Json::array({"<|im_end|>", "<|action_start|>"}));
  EXPECT_EQ(body["skip_special_tokens"], false);
  EXPECT_EQ(body["spaces_between_special_tokens"], false);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
}

TEST(RemoteBackend, LeavesUnsetSamplingExtrasOut) {
  RemoteBackendOptions options;
  options.endpoint = "http://127.0.0.1:9";
  options.model = "m";
  const Json body = RemoteBackend(options).request_body("p", GenerationParams{}, "m");
  EXPECT_FALSE(body.contains("top_k"));  // older vLLM rejects 0 (it wants -1 for "off")
  EXPECT_FALSE(body.contains("min_p"));
  EXPECT_FALSE(body.contains("repetition_penalty"));
  EXPECT_FALSE(body.contains("stop"));
  EXPECT_EQ(body["temperature"], 0.0);
}

TEST(RemoteBackend, NonStreamingReplyIsOneChunk) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    const Json reply = {{"choices", Json::array({Json{{"text", "whole reply"}, {"finish_reason", "stop"}}})},
                        {"usage", Json{{"prompt_tokens", 5}, {"completion_tokens", 2}}}};
    res.set_content(reply.dump(), "application/json");
  });
  server.start();
  RemoteBackendOptions options = fast_options(server);
  options.stream = false;
  RemoteBackend backend(options);
  Streamed streamed;
  const Completion completion = backend.generate("p", {}, streamed.callback());
  EXPECT_EQ(streamed.chunks, (std::vector<std::string>{"whole reply"}));
  EXPECT_EQ(completion.finish_reason, "stop");
  EXPECT_EQ(completion.prompt_tokens, 5);
  EXPECT_EQ(completion.completion_tokens, 2);
  const Json body = Json::parse(server.request(0).body);
  EXPECT_EQ(body["stream"], false);
  EXPECT_FALSE(body.contains("stream_options"));
}

TEST(RemoteBackend, RetriesAfterAServerErrorThenSucceeds) {
  FakeServer server;
  std::atomic<int> calls{0};
  server.on_completions([&](const httplib::Request&, httplib::Response& res) {
    if (calls++ == 0) {
      res.status = 500;
      res.set_content(R"({"error": {"message": "engine overloaded"}})", "application/json");
      return;
    }
    stream_in_pieces(res, text_event("fine", "stop") + kDone, 64);
  });
  server.start();
  RemoteBackend backend(fast_options(server));
  EXPECT_EQ(backend.generate("p", {}, nullptr).text, "fine");
  EXPECT_EQ(server.hits(), 2);
}

TEST(RemoteBackend, GivesUpAfterMaxRetriesOfServerErrors) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content(R"({"error": {"message": "warming up"}})", "application/json");
  });
  server.start();
  RemoteBackend backend(fast_options(server));
  const std::string message = error_of([&] { backend.generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "HTTP 503: warming up")) << message;
  EXPECT_TRUE(contains(message, "gave up after 3 attempts")) << message;
  EXPECT_EQ(server.hits(), 3);
}

TEST(RemoteBackend, ClientErrorsAreNotRetriedAndShowTheServerMessage) {
  FakeServer server;
  server.on_completions([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization").empty()) {
      res.status = 401;
      res.set_content(R"({"error": {"message": "Invalid API key", "type": "invalid_request_error"}})",
                      "application/json");
      return;
    }
    res.status = 400;  // vLLM's older flat error form
    res.set_content(R"({"object": "error", "message": "This model's maximum context length is 4096 tokens"})",
                    "application/json");
  });
  server.start();
  RemoteBackendOptions options = fast_options(server);
  std::string message = error_of([&] { RemoteBackend(options).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "HTTP 401: Invalid API key")) << message;
  EXPECT_TRUE(contains(message, server.url())) << message;
  EXPECT_EQ(server.hits(), 1);

  options.api_key = "k";
  message = error_of([&] { RemoteBackend(options).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "HTTP 400: This model's maximum context length is 4096 tokens")) << message;
  EXPECT_EQ(server.hits(), 2);
}

TEST(RemoteBackend, AStalledServerTimesOutWithoutRetrying) {
  FakeServer server;
  server.on_completions([&](const httplib::Request&, httplib::Response& res) {
    server.stall(3s);
    res.set_content("{}", "application/json");
  });
  server.start();
  RemoteBackendOptions options = fast_options(server);
  options.read_timeout = 200ms;
  RemoteBackend backend(options);
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { backend.generate("p", {}, nullptr); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_TRUE(contains(message, "timed out: no data from the server for 200 ms")) << message;
  EXPECT_EQ(server.hits(), 1);
}

TEST(RemoteBackend, AStallAfterOutputSaysOutputWasAlreadyStreamed) {
  FakeServer server;
  server.on_completions([&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [&](size_t offset, httplib::DataSink& sink) {
      const std::string event = text_event("partial");
      if (offset == 0) return sink.write(event.data(), event.size());
      server.stall(3s);
      return false;
    });
  });
  server.start();
  RemoteBackendOptions options = fast_options(server);
  options.read_timeout = 200ms;
  Streamed streamed;
  const std::string message =
      error_of([&] { RemoteBackend(options).generate("p", {}, streamed.callback()); });
  EXPECT_EQ(streamed.joined(), "partial");
  EXPECT_TRUE(contains(message, "timed out")) << message;
  EXPECT_TRUE(contains(message, "7 characters of output had already reached the caller")) << message;
  EXPECT_EQ(server.hits(), 1);
}

TEST(RemoteBackend, MalformedEventIsAnError) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res, text_event("ok") + "data: {\"choices\": [\n\n" + kDone, 64);
  });
  server.start();
  const std::string message =
      error_of([&] { RemoteBackend(fast_options(server)).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "malformed stream: an event is not a JSON object: {\"choices\": ["))
      << message;
  EXPECT_EQ(server.hits(), 1);
}

TEST(RemoteBackend, StreamEndingWithoutDoneOrFinishReasonIsAnError) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res, text_event("half an ans"), 64);  // ends cleanly, but too early
  });
  server.start();
  const std::string message =
      error_of([&] { RemoteBackend(fast_options(server)).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "ended without [DONE] and without a finish_reason")) << message;
  EXPECT_TRUE(contains(message, "not retried")) << message;
  EXPECT_EQ(server.hits(), 1);
}

TEST(RemoteBackend, ConnectionClosedMidStreamIsNotRetried) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](size_t offset, httplib::DataSink& sink) {
      if (offset > 0) return false;  // drops the connection without the final chunk
      const std::string event = text_event("some output");
      return sink.write(event.data(), event.size());
    });
  });
  server.start();
  Streamed streamed;
  const std::string message =
      error_of([&] { RemoteBackend(fast_options(server)).generate("p", {}, streamed.callback()); });
  EXPECT_EQ(streamed.joined(), "some output");
  EXPECT_TRUE(contains(message, "already reached the caller, so the request was not retried")) << message;
  EXPECT_EQ(server.hits(), 1);
}

TEST(RemoteBackend, ErrorEventMidStreamShowsTheServerMessage) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res, sse(Json{{"error", Json{{"message", "out of KV cache"}}}}) + kDone, 64);
  });
  server.start();
  const std::string message =
      error_of([&] { RemoteBackend(fast_options(server)).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "out of KV cache")) << message;
}

TEST(RemoteBackend, UnreachableServerIsRetriedThenReported) {
  const int port = closed_port();
  RemoteBackendOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(port);
  options.model = "m";
  options.connect_timeout = 300ms;
  options.max_retries = 2;
  options.initial_backoff = 5ms;
  const std::string message = error_of([&] { RemoteBackend(options).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "cannot reach the server")) << message;
  EXPECT_TRUE(contains(message, "gave up after 3 attempts")) << message;
}

TEST(RemoteBackend, CallbackReturningFalseCancelsAndClosesTheConnection) {
  FakeServer server;
  std::atomic<bool> server_saw_close{false};
  server.on_completions([&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "text/event-stream",
        [&](size_t, httplib::DataSink& sink) {
          std::this_thread::sleep_for(5ms);
          const std::string event = text_event("tok ");
          if (server.stopping()) return false;
          return sink.write(event.data(), event.size());  // fails once the client has gone
        },
        [&](bool success) { server_saw_close = !success; });
  });
  server.start();
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  const Completion completion =
      RemoteBackend(fast_options(server)).generate("p", {}, [&](const TokenChunk&) { return ++calls < 3; });
  EXPECT_EQ(completion.finish_reason, "cancelled");
  EXPECT_EQ(completion.text, "tok tok tok ");
  EXPECT_EQ(calls, 3);
  for (int i = 0; i < 200 && !server_saw_close; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(server_saw_close);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(RemoteBackend, AnExceptionFromTheCallbackReachesTheCallerUnchanged) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res, text_event("a") + text_event("b", "stop") + kDone, 64);
  });
  server.start();
  RemoteBackend backend(fast_options(server));
  EXPECT_THROW(
      backend.generate("p", {}, [](const TokenChunk&) -> bool { throw std::logic_error("consumer bug"); }),
      std::logic_error);
  EXPECT_EQ(server.hits(), 1);
  EXPECT_EQ(backend.generate("p", {}, nullptr).text, "ab");  // the backend stays usable
}

TEST(RemoteBackend, HttpsEndpointSpeaksTlsAndReportsAFailedHandshake) {
  FakeServer server;  // plain HTTP: a TLS handshake with it fails
  server.on_completions(
      [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "text/plain"); });
  server.start();
  RemoteBackendOptions options = fast_options(server);
  options.endpoint = "https://" + server.url().substr(std::string("http://").size());
  options.max_retries = 0;
  const std::string message = error_of([&] { RemoteBackend(options).generate("p", {}, nullptr); });
  EXPECT_TRUE(contains(message, "SSL")) << message;
  EXPECT_TRUE(contains(message, "gave up after 1 attempt")) << message;
  EXPECT_EQ(server.hits(), 0);
}

TEST(RemoteBackend, StopStringsAreEnforcedClientSide) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    // This server ignores `stop`, and the stop string arrives split over two events.
    stream_in_pieces(res, text_event("The answer<|im") + text_event("_end|>\nmore text") + kDone, 64);
  });
  server.start();
  GenerationParams params;
  params.stop = {"<|action_start|>", "<|im_end|>"};
  Streamed streamed;
  const Completion completion =
      RemoteBackend(fast_options(server)).generate("p", params, streamed.callback());
  EXPECT_EQ(completion.text, "The answer");
  EXPECT_EQ(streamed.joined(), "The answer");  // "<|im" was held back, never shown
  EXPECT_EQ(completion.finish_reason, "stop");
  EXPECT_EQ(completion.stop, "<|im_end|>");
}

TEST(RemoteBackend, TextHeldBackForAStopStringIsReleasedWhenItIsNot) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res, text_event("a <|im") + text_event("age|> b <|") + text_event("", "stop") + kDone,
                     64);
  });
  server.start();
  GenerationParams params;
  params.stop = {"<|im_end|>"};
  Streamed streamed;
  const Completion completion =
      RemoteBackend(fast_options(server)).generate("p", params, streamed.callback());
  EXPECT_EQ(streamed.chunks, (std::vector<std::string>{"a ", "<|image|> b ", "<|"}));
  EXPECT_EQ(completion.text, "a <|image|> b <|");
  EXPECT_EQ(completion.finish_reason, "stop");
}

TEST(RemoteBackend, ReportsTheServersStopReason) {
  FakeServer server;
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    const Json last = {
        {"choices",
         Json::array({Json{{"text", ""}, {"finish_reason", "stop"}, {"stop_reason", "<|action_start|>"}}})}};
    stream_in_pieces(res, text_event("calling a tool") + sse(last) + kDone, 64);
  });
  server.start();
  const Completion completion = RemoteBackend(fast_options(server)).generate("p", {}, nullptr);
  EXPECT_EQ(completion.text, "calling a tool");
  EXPECT_EQ(completion.stop, "<|action_start|>");
}

TEST(RemoteBackend, AsksTheServerForItsModelWhenNoneIsGiven) {
  FakeServer server;
  std::atomic<int> model_lists{0};
  server.http().Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    ++model_lists;
    res.set_content(R"({"object": "list", "data": [{"id": "internlm2_5-7b-chat", "object": "model"}]})",
                    "application/json");
  });
  server.on_completions([](const httplib::Request&, httplib::Response& res) {
    stream_in_pieces(res, text_event("x", "stop") + kDone, 64);
  });
  server.start();
  RemoteBackendOptions options = fast_options(server);
  options.model.clear();
  RemoteBackend backend(options);
  backend.generate("p", {}, nullptr);
  backend.generate("p", {}, nullptr);
  EXPECT_EQ(model_lists, 1);
  EXPECT_EQ(Json::parse(server.request(1).body)["model"], "internlm2_5-7b-chat");
}

// The demo model's tokenizer (models/demo), as --tokenizer loads it.
std::shared_ptr<const engine::Tokenizer> demo_tokenizer() {
  static const auto tok = std::make_shared<const engine::Tokenizer>(
      engine::Tokenizer::load(std::filesystem::path(AGENTRT_SOURCE_DIR) / "models/demo"));
  return tok;
}

// A stand-in for one kind of server: /v1/models says who owns the model; /v1/completions answers `reply`,
// or 400 to a prompt of token ids when `refuses_ids`.
struct DialectServer {
  FakeServer server;
  DialectServer(const std::string& owned_by, const std::string& reply, bool refuses_ids = false,
                int n_vocab = 0) {
    server.http().Get("/v1/models", [owned_by, n_vocab](const httplib::Request&, httplib::Response& res) {
      Json model{{"id", "m"}, {"object", "model"}, {"owned_by", owned_by}};
      if (n_vocab > 0) model["meta"] = Json{{"n_vocab", n_vocab}};
      res.set_content(Json{{"object", "list"}, {"data", Json::array({model})}}.dump(), "application/json");
    });
    server.on_completions([reply, refuses_ids](const httplib::Request& req, httplib::Response& res) {
      if (refuses_ids && Json::parse(req.body)["prompt"].is_array()) {
        res.status = 400;
        res.set_content(R"({"error": {"message": "prompt must be a string"}})", "application/json");
        return;
      }
      stream_in_pieces(res, text_event(reply, "stop") + kDone, 64);
    });
    server.start();
  }
  Json body(size_t i) { return Json::parse(server.request(i).body); }
};

struct Warnings {
  std::vector<std::string> said;
  std::mutex mutex;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& m) {
      std::lock_guard lock(mutex);
      said.push_back(m);
    };
  }
};

const std::string kPrompt = "<|im_start|>user\nWhat is 6*7?<|im_end|>\n<|im_start|>assistant\n";

TEST(RemoteDialects, LlamaServerGetsTokenIdsAndPreservedTokens) {
  DialectServer s("llamacpp", "<|action_start|><|plugin|>\n{}<|action_end|>", false, 4096);
  RemoteBackendOptions o = fast_options(s.server);
  o.tokenizer = demo_tokenizer();
  RemoteBackend backend(o);
  backend.generate(kPrompt, {}, nullptr);
  EXPECT_EQ(backend.dialect(), RemoteDialect::LlamaServer);
  const Json body = s.body(0);
  // Exactly our tokens, <s> first: the server adds nothing to a list of ids.
  EXPECT_EQ(body["prompt"], Json(demo_tokenizer()->encode(kPrompt, true)));
  EXPECT_EQ(body["prompt"][0], demo_tokenizer()->bos_id());
  EXPECT_EQ(body["prompt"][1], *demo_tokenizer()->special_id("<|im_start|>"));
  const Json preserved = body["preserved_tokens"];
  for (const char* marker :
       {"<|action_start|>", "<|action_end|>", "<|plugin|>", "<|interpreter|>", "<|im_end|>"}) {
    EXPECT_NE(std::find(preserved.begin(), preserved.end(), Json(marker)), preserved.end()) << marker;
  }
  EXPECT_FALSE(body.contains("skip_special_tokens"));
}

TEST(RemoteDialects, VllmAndLmdeployGetTokenIdsAndSkipSpecialTokensFalse) {
  for (const std::string owner : {"vllm", "lmdeploy"}) {
    DialectServer s(owner, "42");
    RemoteBackendOptions o = fast_options(s.server);
    o.tokenizer = demo_tokenizer();
    RemoteBackend backend(o);
    backend.generate(kPrompt, {}, nullptr);
    const Json body = s.body(0);
    EXPECT_TRUE(body["prompt"].is_array()) << owner;
    EXPECT_EQ(body["skip_special_tokens"], false) << owner;
    EXPECT_EQ(body["spaces_between_special_tokens"], false) << owner;
    EXPECT_FALSE(body.contains("preserved_tokens")) << owner;
  }
}

TEST(RemoteDialects, WithoutATokenizerOrWithOurOwnServerThePromptIsText) {
  DialectServer plain("vllm", "42");
  RemoteBackend without(fast_options(plain.server));
  without.generate(kPrompt, {}, nullptr);
  EXPECT_EQ(plain.body(0)["prompt"], kPrompt);
  DialectServer ours("agentrt", "42");
  RemoteBackendOptions o = fast_options(ours.server);
  o.tokenizer = demo_tokenizer();
  RemoteBackend backend(o);
  backend.generate(kPrompt, {}, nullptr);
  EXPECT_EQ(ours.body(0)["prompt"], kPrompt);
  EXPECT_EQ(backend.dialect(), RemoteDialect::AgentRT);
}

TEST(RemoteDialects, AServerThatRefusesTokenIdsGetsTextFromThenOn) {
  DialectServer s("somebody", "42", /*refuses_ids=*/true);
  Warnings w;
  RemoteBackendOptions o = fast_options(s.server);
  o.tokenizer = demo_tokenizer();
  o.warn = w.sink();
  RemoteBackend backend(o);
  Streamed first;
  EXPECT_EQ(backend.generate(kPrompt, {}, first.callback()).text, "42");
  EXPECT_EQ(first.joined(), "42");
  EXPECT_FALSE(backend.sends_token_ids());
  backend.generate(kPrompt, {}, nullptr);
  ASSERT_EQ(s.server.hits(), 3);  // ids (refused), text, text
  EXPECT_TRUE(s.body(0)["prompt"].is_array());
  EXPECT_EQ(s.body(1)["prompt"], kPrompt);
  EXPECT_EQ(s.body(2)["prompt"], kPrompt);
  ASSERT_EQ(w.said.size(), 1u);
  EXPECT_TRUE(contains(w.said[0], "refused a prompt of token ids")) << w.said[0];
  // An unknown server is asked for special tokens every way there is.
  EXPECT_EQ(s.body(1)["skip_special_tokens"], false);
  EXPECT_TRUE(s.body(1).contains("preserved_tokens"));
}

TEST(RemoteDialects, ATokenizerOfAnotherVocabularyIsNotUsed) {
  DialectServer s("llamacpp", "42", false, /*n_vocab=*/92544);
  Warnings w;
  RemoteBackendOptions o = fast_options(s.server);
  o.tokenizer = demo_tokenizer();  // 4,096 tokens
  o.warn = w.sink();
  RemoteBackend backend(o);
  backend.generate(kPrompt, {}, nullptr);
  EXPECT_EQ(s.body(0)["prompt"], kPrompt);
  ASSERT_EQ(w.said.size(), 1u);
  EXPECT_TRUE(contains(w.said[0], "92544 tokens")) << w.said[0];
}

TEST(RemoteDialects, MissingMarkersWhereACallWasMeantAreReportedOnceWithTheFix) {
  // What llama-server started without --special (and too old for preserved_tokens) returns for a call.
  DialectServer s("llamacpp", "I will work it out in Lua.\n```lua\nx = 6 * 7\n```");
  Warnings w;
  RemoteBackendOptions o = fast_options(s.server);
  o.warn = w.sink();
  RemoteBackend backend(o);
  backend.generate(kPrompt, {}, nullptr);
  backend.generate(kPrompt, {}, nullptr);
  ASSERT_EQ(w.said.size(), 1u);
  EXPECT_TRUE(contains(w.said[0], "restart it with --special")) << w.said[0];
  // A plain answer, or a reply with its markers, says nothing.
  for (const std::string reply :
       {"The answer is 42.", "Sure.<|action_start|><|interpreter|>\n```lua\nx=1\n```"}) {
    DialectServer fine("vllm", reply);
    Warnings quiet;
    RemoteBackendOptions fo = fast_options(fine.server);
    fo.warn = quiet.sink();
    RemoteBackend(fo).generate(kPrompt, {}, nullptr);
    EXPECT_TRUE(quiet.said.empty()) << reply;
  }
}

TEST(RemoteDialects, JsonSchemasGoWhereEachServerTakesThem) {
  const Json schema = Json::parse(R"({"type": "object", "properties": {"a": {"type": "integer"}}})");
  GenerationParams p;
  p.response_schema = schema;
  DialectServer vllm("vllm", "{\"a\": 1}");
  RemoteBackend v(fast_options(vllm.server));
  EXPECT_EQ(v.response_schema_support(), SchemaSupport::Json);
  v.generate(kPrompt, p, nullptr);
  EXPECT_EQ(vllm.body(0)["response_format"]["type"], "json_schema");
  EXPECT_EQ(vllm.body(0)["response_format"]["json_schema"]["schema"], schema);
  DialectServer llama("llamacpp", "{\"a\": 1}");
  RemoteBackend l(fast_options(llama.server));
  l.generate(kPrompt, p, nullptr);
  EXPECT_EQ(llama.body(0)["json_schema"], schema);
  DialectServer other("lmdeploy", "{}");
  RemoteBackend d(fast_options(other.server));
  EXPECT_EQ(d.response_schema_support(), SchemaSupport::None);
  EXPECT_THROW(d.generate(kPrompt, p, nullptr), std::invalid_argument);
  p.response_allows_calls = true;
  EXPECT_THROW(v.generate(kPrompt, p, nullptr), std::invalid_argument);
  EXPECT_EQ(other.server.hits(), 0);
}

TEST(RemoteEndpoint, ParsesPrefixesAndToleratesV1) {
  EXPECT_EQ(parse_remote_endpoint("http://localhost:8000").scheme_host_port, "http://localhost:8000");
  EXPECT_EQ(parse_remote_endpoint("http://localhost:8000").path_prefix, "");
  EXPECT_EQ(parse_remote_endpoint("http://localhost:8000/v1").path_prefix, "");
  EXPECT_EQ(parse_remote_endpoint("http://localhost:8000/v1/").path_prefix, "");
  EXPECT_EQ(parse_remote_endpoint("https://example.com/openai/v1").scheme_host_port, "https://example.com");
  EXPECT_EQ(parse_remote_endpoint("https://example.com/openai/v1").path_prefix, "/openai");
  EXPECT_EQ(parse_remote_endpoint("http://[::1]:8080/x/").path_prefix, "/x");
  EXPECT_EQ(parse_remote_endpoint("http://[::1]:8080/x/").scheme_host_port, "http://[::1]:8080");
}

TEST(RemoteEndpoint, RejectsMalformedUrls) {
  for (const char* url : {"localhost:8000", "ftp://host", "http://", "http://host:port", "http://h/p?q=1"}) {
    EXPECT_THROW(parse_remote_endpoint(url), std::invalid_argument) << url;
    RemoteBackendOptions options;
    options.endpoint = url;
    EXPECT_THROW(RemoteBackend{options}, std::invalid_argument) << url;
  }
}

TEST(SseEventDecoder, DecodesEventsSplitAtEveryByte) {
  const std::string stream =
      ": comment\r\nevent: message\r\ndata: {\"a\": 1}\r\n\r\ndata:two\ndata: lines\n\nid: 7\n\ndata: "
      "[DONE]\n\n";
  for (size_t split = 0; split <= stream.size(); ++split) {
    SseEventDecoder decoder;
    std::vector<std::string> events = decoder.feed(std::string_view(stream).substr(0, split));
    for (auto& event : decoder.feed(std::string_view(stream).substr(split))) events.push_back(event);
    for (auto& event : decoder.finish()) events.push_back(event);
    EXPECT_EQ(events, (std::vector<std::string>{"{\"a\": 1}", "two\nlines", "[DONE]"}))
        << "split at " << split;
  }
}

TEST(SseEventDecoder, FinishDeliversAnUnterminatedLastEvent) {
  SseEventDecoder decoder;
  EXPECT_TRUE(decoder.feed("data: {\"x\"").empty());
  EXPECT_EQ(decoder.finish(), (std::vector<std::string>{"{\"x\""}));
}

}  // namespace
}  // namespace agentrt::agent
