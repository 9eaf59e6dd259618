// The web page: `/` and `/web/<file>`, served from the copies compiled into the program (apps/web/).
#include <string_view>

#include "apps/server/server_state.h"
#include "apps/server/workspace_files.h"
#include "prompts/embedded_files.h"

namespace agentrt::server {
namespace web_detail {
extern const prompts::EmbeddedFiles kWebFiles;  // web_embedded.cpp, generated from apps/web/
}  // namespace web_detail

namespace {

void serve_web_file(std::string_view path, httplib::Response& res) {
  const auto* file = web_detail::kWebFiles.find(path);
  if (file == nullptr) throw not_found("no page file '" + std::string(path) + "'");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(std::string(file->data), mime_type_of(std::string(path)));
}

}  // namespace

void add_web_routes(ServerState& s) {
  s.http.Get("/", route(s, "/", [](const httplib::Request&, httplib::Response& res) {
               serve_web_file("index.html", res);
             }));
  s.http.Get(R"(/web/([A-Za-z0-9_.-]+))",
             route(s, "/web/{file}", [](const httplib::Request& req, httplib::Response& res) {
               serve_web_file(req.matches[1].str(), res);
             }));
}

}  // namespace agentrt::server
