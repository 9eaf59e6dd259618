// RemoteBackend: an LLMBackend that talks to any OpenAI-compatible server (lmdeploy, vLLM, llama-server)
// through the plain-text /v1/completions endpoint. We send our own rendered prompt rather than chat messages
// so the InternLM2 protocol (special markers included) is byte-exact whatever chat template the server was
// started with.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/llm_backend.h"
#include "agent/schema.h"

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

  // The JSON body generate() posts for this prompt and these parameters (also used by tests).
  Json request_body(const std::string& prompt, const GenerationParams& params,
                    const std::string& model) const;
  const RemoteBackendOptions& options() const { return options_; }

 private:
  std::string resolve_model();

  RemoteBackendOptions options_;
  RemoteEndpoint endpoint_;
  std::mutex model_mutex_;
  std::string resolved_model_;  // guarded by model_mutex_
};

}  // namespace agentrt::agent
