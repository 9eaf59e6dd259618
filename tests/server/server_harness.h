// A server on 127.0.0.1 (a free port) in this process, with a scripted backend (or any backend a test gives),
// a fresh data folder, and helpers to call it and read its server-sent events.
#pragma once

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/backends/backend_scripted.h"
#include "agent/schema.h"
#include "apps/server/server.h"

namespace agentrt::testing {

// A new empty folder, removed when the test process ends.
inline std::filesystem::path fresh_dir(const std::string& name) {
  struct Made {
    std::vector<std::filesystem::path> dirs;
    ~Made() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Made made;
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("agentrt-server-" + std::to_string(::getpid()) + "-" + name + "-" + std::to_string(++counter));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  made.dirs.push_back(dir);
  return dir;
}

class TestServer {
 public:
  TestServer(std::shared_ptr<server::ServedModel> model, server::ServerOptions options)
      : model_(std::move(model)) {
    // A client leaving mid-stream makes the server's next write fail; it must not end the test process.
    std::signal(SIGPIPE, SIG_IGN);
    options.host = "127.0.0.1";
    options.port = 0;
    // Enough connections for the concurrency tests without 256 idle threads per test server.
    options.threads = std::min(options.threads, 64);
    api_ = std::make_unique<server::ApiServer>(model_, std::move(options));
    port_ = api_->bind();
    thread_ = std::thread([this] { api_->run(); });
  }
  ~TestServer() { stop(); }
  void stop() {
    if (!api_) return;
    api_->stop();
    thread_.join();
    api_.reset();
  }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }
  server::ServedModel& model() { return *model_; }

 private:
  std::shared_ptr<server::ServedModel> model_;
  std::unique_ptr<server::ApiServer> api_;
  int port_ = 0;
  std::thread thread_;
};

// A server on a scripted backend: `backend` stays readable (its prompts) while the server runs.
class ScriptedServer {
 public:
  agent::ScriptedBackend* backend = nullptr;
  std::unique_ptr<TestServer> server;

  explicit ScriptedServer(std::vector<std::string> replies, server::ServerOptions options = {},
                          std::filesystem::path data_dir = {}) {
    auto b = std::make_unique<agent::ScriptedBackend>(std::move(replies));
    backend = b.get();
    if (data_dir.empty()) own_dir = data_dir = fresh_dir("data");
    options.data_dir = data_dir;
    server = std::make_unique<TestServer>(
        std::make_shared<server::SerialServedModel>(std::move(b), "agentrt"), std::move(options));
  }
  ~ScriptedServer() {
    server.reset();
    if (!own_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(own_dir, ec);
    }
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  httplib::Client client() const { return server->client(); }

 private:
  std::filesystem::path own_dir;  // a data folder made here, removed with the server
};

inline Json post_json(httplib::Client& c, const std::string& path, const Json& body, int* status = nullptr) {
  auto res = c.Post(path.c_str(), body.dump(), "application/json");
  if (!res) return Json{{"transport_error", httplib::to_string(res.error())}};
  if (status != nullptr) *status = res->status;
  return Json::parse(res->body, nullptr, false);
}

inline Json get_json(httplib::Client& c, const std::string& path, int* status = nullptr) {
  auto res = c.Get(path.c_str());
  if (!res) return Json{{"transport_error", httplib::to_string(res.error())}};
  if (status != nullptr) *status = res->status;
  return Json::parse(res->body, nullptr, false);
}

// The data payloads of a complete event stream, in order ("[DONE]" included as the string itself).
inline std::vector<std::string> sse_payloads(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    const std::string block = body.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (block.rfind("data: ", 0) == 0) out.push_back(block.substr(6));
    if (end == std::string::npos) break;
    pos = end + 2;
  }
  return out;
}

// Posts a streaming request and returns the whole stream's text, with its status.
inline std::string post_stream(httplib::Client& c, const std::string& path, const Json& body,
                               int* status = nullptr) {
  auto res = c.Post(path.c_str(), body.dump(), "application/json");
  if (!res) return "transport error: " + httplib::to_string(res.error());
  if (status != nullptr) *status = res->status;
  return res->body;
}

// The value of an unlabelled or labelled sample line in a /metrics exposition, or -1 when absent.
inline double metric(const std::string& text, const std::string& sample) {
  size_t pos = 0;
  while ((pos = text.find(sample + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::stod(text.substr(pos + sample.size() + 1));
    ++pos;
  }
  return -1;
}

}  // namespace agentrt::testing
