// Sessions and what they hold: /v1/sessions (create, list), /v1/sessions/{id} (with its runs),
// /v1/sessions/{id}/messages, /v1/sessions/{id}/trace, and the workspace files: list, upload, download.
#include <fstream>

#include "apps/server/openai_request.h"
#include "apps/server/server_state.h"
#include "apps/server/workspace_files.h"

namespace agentrt::server {
namespace {

constexpr const char* kSessionPattern = R"(/v1/sessions/([A-Za-z0-9_-]{1,64}))";

Json session_json(const SessionInfo& info) {
  return Json{{"id", info.id},
              {"object", "session"},
              {"title", info.title},
              {"created_at", info.created_at},
              {"updated_at", info.updated_at},
              {"message_count", info.message_count}};
}

SessionInfo require_session(ServerState& s, const std::string& id) {
  auto info = s.store->find_session(id);
  if (!info) throw not_found("no session '" + id + "'");
  return *info;
}

void create_session(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  std::string title = "New session";
  if (!req.body.empty()) {
    const Json body = parse_body(req.body);
    if (body.contains("title")) {
      if (!body["title"].is_string()) throw bad_request("'title' must be a string", "title", "invalid_type");
      title = body["title"].get<std::string>();
    }
  }
  const auto info = s.store->create_session(title);
  std::filesystem::create_directories(s.workspace_of(info.id));
  reply_json(res, session_json(info), 201);
}

void upload_file(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  require_session(s, id);
  if (!req.is_multipart_form_data() || !req.has_file("file")) {
    throw bad_request("upload a file as multipart/form-data in the field 'file'", "file",
                      "missing_required_parameter");
  }
  const auto file = req.get_file_value("file");
  if (file.content.size() > s.options.max_upload_bytes) {
    throw payload_too_large("the file is larger than the limit of " +
                            std::to_string(s.options.max_upload_bytes) + " bytes");
  }
  const std::string name = safe_upload_name(file.filename);
  if (name.empty()) throw bad_request("the uploaded file needs a file name", "file", "invalid_value");
  const auto workspace = s.workspace_of(id);
  std::filesystem::create_directories(workspace);
  const auto path = workspace / name;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file.content.data(), static_cast<std::streamsize>(file.content.size()));
    if (!out) throw std::runtime_error("cannot write '" + name + "' into the session's workspace");
  }
  reply_json(res, Json{{"path", name}, {"bytes", file.content.size()}, {"mime", mime_type_of(name)}}, 201);
}

void download_file(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  require_session(s, id);
  const std::string rel = req.matches[2];
  const auto path = resolve_in_workspace(s.workspace_of(id), rel);
  std::error_code ec;
  if (!path || !std::filesystem::is_regular_file(*path, ec)) {
    throw not_found("no file '" + rel + "' in the workspace of session '" + id + "'");
  }
  std::ifstream in(*path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Files come from tools and users: shown, never run as a page of this origin.
  res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(data, mime_type_of(*path));
}

}  // namespace

void add_session_routes(ServerState& s) {
  const std::string base = kSessionPattern;
  s.http.Post("/v1/sessions",
              route(s, "/v1/sessions", [&s](const httplib::Request& req, httplib::Response& res) {
                create_session(s, req, res);
              }));
  s.http.Get("/v1/sessions", route(s, "/v1/sessions", [&s](const httplib::Request&, httplib::Response& res) {
               Json data = Json::array();
               for (const auto& info : s.store->list_sessions()) data.push_back(session_json(info));
               reply_json(res, Json{{"object", "list"}, {"data", data}});
             }));
  s.http.Get(base, route(s, "/v1/sessions/{id}", [&s](const httplib::Request& req, httplib::Response& res) {
               Json out = session_json(require_session(s, req.matches[1]));
               Json runs = Json::array();
               for (auto& r : s.store->runs(req.matches[1])) runs.push_back(std::move(r));
               out["runs"] = runs;
               reply_json(res, out);
             }));
  s.http.Get(base + "/messages", route(s, "/v1/sessions/{id}/messages",
                                       [&s](const httplib::Request& req, httplib::Response& res) {
                                         require_session(s, req.matches[1]);
                                         Json data = Json::array();
                                         for (const auto& m : s.store->messages(req.matches[1]))
                                           data.push_back(agent::to_json(m));
                                         reply_json(res, Json{{"object", "list"}, {"data", data}});
                                       }));
  s.http.Get(base + "/trace",
             route(s, "/v1/sessions/{id}/trace", [&s](const httplib::Request& req, httplib::Response& res) {
               require_session(s, req.matches[1]);
               Json data = Json::array();
               for (auto& e : s.store->trace(req.matches[1], req.get_param_value("run_id"))) {
                 data.push_back(std::move(e));
               }
               reply_json(res, Json{{"object", "list"}, {"data", data}});
             }));
  s.http.Get(
      base + "/files",
      route(s, "/v1/sessions/{id}/files", [&s](const httplib::Request& req, httplib::Response& res) {
        require_session(s, req.matches[1]);
        reply_json(res, Json{{"object", "list"}, {"data", list_workspace(s.workspace_of(req.matches[1]))}});
      }));
  s.http.Post(base + "/files",
              route(s, "/v1/sessions/{id}/files",
                    [&s](const httplib::Request& req, httplib::Response& res) { upload_file(s, req, res); }));
  s.http.Get(base + "/files/(.+)", route(s, "/v1/sessions/{id}/files/{path}",
                                         [&s](const httplib::Request& req, httplib::Response& res) {
                                           download_file(s, req, res);
                                         }));
}

}  // namespace agentrt::server
