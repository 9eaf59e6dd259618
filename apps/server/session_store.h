// Durable state of the server in one SQLite file: sessions, each session's conversation (agent::Message as
// JSON, in order), agent runs and their trace events. Writes are committed before the answer that depends on
// them is sent, so a restart loses nothing already answered. Thread-safe (one connection behind a mutex;
// WAL journal so readers of other processes are not blocked).
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/schema.h"

struct sqlite3;

namespace agentrt::server {

struct SessionInfo {
  std::string id;
  std::string title;
  long long created_at = 0;  // unix seconds
  long long updated_at = 0;
  long long message_count = 0;
};

class SessionStore {
 public:
  // Opens or creates the database; throws std::runtime_error naming the file when it cannot.
  explicit SessionStore(const std::filesystem::path& path);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  SessionInfo create_session(const std::string& title);
  std::optional<SessionInfo> find_session(const std::string& id) const;
  std::vector<SessionInfo> list_sessions() const;
  void set_title(const std::string& id, const std::string& title);

  // The conversation as stored, in order.
  std::vector<agent::Message> messages(const std::string& session_id) const;
  // Replaces the stored conversation by `messages` (one transaction).
  void save_messages(const std::string& session_id, const std::vector<agent::Message>& messages);

  // Records a run (nothing when it is already recorded).
  void begin_run(const std::string& session_id, const std::string& run_id, const std::string& task);
  // outcome: "answered" | "cancelled" | "error"
  void end_run(const std::string& run_id, const std::string& outcome, const std::string& answer,
               const std::string& error);
  // Appends one trace event of a run (as it happens).
  void append_trace(const std::string& session_id, const std::string& run_id, const Json& event);
  // The session's trace events in the order they happened; only one run's when `run_id` is set.
  std::vector<Json> trace(const std::string& session_id, const std::string& run_id = "") const;
  // Runs of the session: {run_id, task, outcome, answer, error, started_at, ended_at}.
  std::vector<Json> runs(const std::string& session_id) const;

 private:
  void exec(const char* sql) const;

  mutable std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

}  // namespace agentrt::server
