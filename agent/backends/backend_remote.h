// RemoteBackend: an LLMBackend that talks to any OpenAI-compatible server (lmdeploy, vLLM, llama-server)
// through the /v1/completions endpoint. We send our own rendered prompt rather than chat messages so the
// InternLM2 protocol (special markers included) is byte-exact whatever chat template the server was started
// with; with the model's tokenizer known, as token ids, so the server sees exactly the tokens the renderer
// means. Which server it is (remote_dialect.h) decides how special tokens are asked back and how a JSON
// schema is passed on.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/backends/remote_dialect.h"
#include "agent/llm_backend.h"
#include "agent/schema.h"

namespace agentrt::engine {
class Tokenizer;
}

namespace agentrt::agent {

struct RemoteBackendOptions {
  // "http://host:port" or "https://host[:port]", optionally with a path prefix ("http://h/api"); a trailing
  // "/v1" or "/" is tolerated. Requests go to {endpoint}/v1/completions.
  std::string endpoint;
  // The served model's name, sent as "model". Empty: asked once from {endpoint}/v1/models (first model
  // listed).
  std::string model;
  std::string api_key;  // sent as "Authorization: Bearer <key>" when not empty
  std::chrono::milliseconds connect_timeout{5000};
  // Longest wait for the next bytes from the server (the first token included); a stall past it is an error.
  std::chrono::milliseconds read_timeout{120000};
  // Retries after connection errors and 5xx replies (never after 4xx, a timeout, or once output was
  // streamed).
  int max_retries = 3;
  std::chrono::milliseconds initial_backoff{250};  // doubled after each retry, up to max_backoff
  std::chrono::milliseconds max_backoff{4000};
  bool stream = true;  // SSE streaming; false: one JSON reply, handed to the callback as one chunk
  bool verify_tls = true;
  std::string ca_cert_file;  // PEM bundle for https; empty: the system's default paths
  // The served model's tokenizer, when known (--tokenizer): prompts go as token ids (with <s>) to servers
  // that take them, text to those that refuse them.
  std::shared_ptr<const engine::Tokenizer> tokenizer;
  // Where the backend's warnings go (each is said once); empty: standard error.
  std::function<void(const std::string&)> warn;
};

// The endpoint split into what the HTTP client needs.
struct RemoteEndpoint {
  std::string scheme_host_port;  // "http://127.0.0.1:8000"
  std::string path_prefix;       // "" or "/api" (no trailing slash, no "/v1")
};
// Throws std::invalid_argument for a URL that is not http(s)://host[:port][/path].
RemoteEndpoint parse_remote_endpoint(std::string_view url);

// Turns a byte stream of server-sent events into the data payloads of its events. Bytes may arrive split
// anywhere (inside a line, between "\r" and "\n"); lines starting with ':' are comments (keep-alives) and
// fields other than "data" are ignored. Several "data:" lines of one event are joined with '\n'.
class SseEventDecoder {
 public:
  // Returns the payloads of the events that `bytes` completed, in order.
  std::vector<std::string> feed(std::string_view bytes);
  // Ends the stream: returns the payload of a last event not followed by a blank line (if any).
  std::vector<std::string> finish();

 private:
  void take_line(std::string_view line, std::vector<std::string>& out);

  std::string line_;         // the current incomplete line
  bool pending_cr_ = false;  // the last byte seen was '\r' (a following '\n' belongs to the same line break)
  std::string data_;         // data of the current event
  bool has_data_ = false;
};

class RemoteBackend : public LLMBackend {
 public:
  // Throws std::invalid_argument for a malformed endpoint.
  explicit RemoteBackend(RemoteBackendOptions options);

  std::string name() const override;
  Completion generate(const std::string& prompt, const GenerationParams& params,
                      const ChunkCallback& on_chunk) override;
  // vLLM and llama-server can hold a completion to a JSON schema (not with a tool call first).
  SchemaSupport response_schema_support() override;

  // The JSON body generate() posts for this prompt (text, or a list of token ids) and these parameters, in
  // the dialect of the server (also used by tests).
  Json request_body(const Json& prompt, const GenerationParams& params, const std::string& model,
                    RemoteDialect dialect = RemoteDialect::Unknown) const;
  const RemoteBackendOptions& options() const { return options_; }
  // Which server it is, asked once from /v1/models (Unknown when it does not say).
  RemoteDialect dialect();
  // Whether prompts currently go as token ids (a tokenizer is known and the server has not refused them).
  bool sends_token_ids() const { return options_.tokenizer != nullptr && token_ids_ok_.load(); }

 private:
  struct ServerInfo {
    std::string model;
    RemoteDialect dialect = RemoteDialect::Unknown;
  };
  // The model name and dialect: asked from /v1/models once (with retries only when the model name is needed).
  ServerInfo server_info();
  Completion post(const std::string& body, const GenerationParams& params, const ChunkCallback& on_chunk);
  void say_once(std::atomic<bool>& said, const std::string& message);
  // Warns (once) when a reply that clearly meant a call came back without the protocol's markers.
  void check_markers(const Completion& completion, RemoteDialect dialect);

  RemoteBackendOptions options_;
  RemoteEndpoint endpoint_;
  std::mutex info_mutex_;
  bool have_info_ = false;  // guarded by info_mutex_
  ServerInfo info_;         // guarded by info_mutex_
  std::atomic<bool> token_ids_ok_{true};
  std::atomic<bool> saw_markers_{false};
  std::atomic<bool> warned_markers_{false};
  std::atomic<bool> warned_ids_{false};
};

}  // namespace agentrt::agent
