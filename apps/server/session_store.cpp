#include "apps/server/session_store.h"

#include <sqlite3.h>

#include <chrono>
#include <random>
#include <stdexcept>

#include "agent/message_io.h"

namespace agentrt::server {
namespace {

long long now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 20; ++i) id += kDigits[rng() % 16];
  return id;
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL, message TEXT NOT NULL,
  PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), task TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT 'running', answer TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL, ended_at INTEGER);
CREATE TABLE IF NOT EXISTS trace_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, run_id TEXT NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trace_events_by_session ON trace_events (session_id, id);
CREATE INDEX IF NOT EXISTS runs_by_session ON runs (session_id, started_at);
)sql";

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("database error: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, long long v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // true while rows come; throws on errors.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("database error: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p == nullptr ? std::string()
                        : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  long long integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

SessionInfo session_from_row(const Statement& s) {
  return SessionInfo{s.text(0), s.text(1), s.integer(2), s.integer(3), s.integer(4)};
}

constexpr const char* kSessionColumns =
    "SELECT id, title, created_at, updated_at, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) "
    "FROM sessions s ";

}  // namespace

SessionStore::SessionStore(const std::filesystem::path& path) : path_(path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open the session database '" + path.string() + "': " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    exec(kSchema);
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot use the session database '" + path.string() + "': " + e.what());
  }
}

SessionStore::~SessionStore() {
  sqlite3_close(db_);
}

void SessionStore::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("database error: " + why);
  }
}

SessionInfo SessionStore::create_session(const std::string& title) {
  std::lock_guard lock(mutex_);
  SessionInfo info{random_id("sess_"), title, now_seconds(), now_seconds(), 0};
  Statement s(db_, "INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)");
  s.bind(1, info.id).bind(2, info.title).bind(3, info.created_at).bind(4, info.updated_at).step();
  return info;
}

std::optional<SessionInfo> SessionStore::find_session(const std::string& id) const {
  std::lock_guard lock(mutex_);
  Statement s(db_, (std::string(kSessionColumns) + "WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return session_from_row(s);
}

std::vector<SessionInfo> SessionStore::list_sessions() const {
  std::lock_guard lock(mutex_);
  Statement s(db_, (std::string(kSessionColumns) + "ORDER BY updated_at DESC, rowid DESC").c_str());
  std::vector<SessionInfo> out;
  while (s.step()) out.push_back(session_from_row(s));
  return out;
}

void SessionStore::set_title(const std::string& id, const std::string& title) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "UPDATE sessions SET title = ? WHERE id = ?");
  s.bind(1, title).bind(2, id).step();
}

std::vector<agent::Message> SessionStore::messages(const std::string& session_id) const {
  Json list = Json::array();
  {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT message FROM messages WHERE session_id = ? ORDER BY seq");
    s.bind(1, session_id);
    while (s.step()) list.push_back(Json::parse(s.text(0)));
  }
  return agent::messages_from_json(list);
}

void SessionStore::save_messages(const std::string& session_id, const std::vector<agent::Message>& messages) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Statement del(db_, "DELETE FROM messages WHERE session_id = ?");
    del.bind(1, session_id).step();
    for (size_t i = 0; i < messages.size(); ++i) {
      Statement one(db_, "INSERT INTO messages (session_id, seq, message) VALUES (?, ?, ?)");
      one.bind(1, session_id)
          .bind(2, static_cast<long long>(i))
          .bind(3, agent::to_json(messages[i]).dump(-1, ' ', false, Json::error_handler_t::replace))
          .step();
    }
    Statement touch(db_, "UPDATE sessions SET updated_at = ? WHERE id = ?");
    touch.bind(1, now_seconds()).bind(2, session_id).step();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void SessionStore::begin_run(const std::string& session_id, const std::string& run_id,
                             const std::string& task) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "INSERT OR IGNORE INTO runs (run_id, session_id, task, started_at) VALUES (?, ?, ?, ?)");
  s.bind(1, run_id).bind(2, session_id).bind(3, task).bind(4, now_seconds()).step();
}

void SessionStore::end_run(const std::string& run_id, const std::string& outcome, const std::string& answer,
                           const std::string& error) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "UPDATE runs SET outcome = ?, answer = ?, error = ?, ended_at = ? WHERE run_id = ?");
  s.bind(1, outcome).bind(2, answer).bind(3, error).bind(4, now_seconds()).bind(5, run_id).step();
}

void SessionStore::append_trace(const std::string& session_id, const std::string& run_id, const Json& event) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "INSERT INTO trace_events (session_id, run_id, event) VALUES (?, ?, ?)");
  s.bind(1, session_id)
      .bind(2, run_id)
      .bind(3, event.dump(-1, ' ', false, Json::error_handler_t::replace))
      .step();
}

std::vector<Json> SessionStore::trace(const std::string& session_id, const std::string& run_id) const {
  std::lock_guard lock(mutex_);
  const char* sql = run_id.empty()
                        ? "SELECT event FROM trace_events WHERE session_id = ? ORDER BY id"
                        : "SELECT event FROM trace_events WHERE session_id = ? AND run_id = ? ORDER BY id";
  Statement s(db_, sql);
  s.bind(1, session_id);
  if (!run_id.empty()) s.bind(2, run_id);
  std::vector<Json> out;
  while (s.step()) out.push_back(Json::parse(s.text(0)));
  return out;
}

std::vector<Json> SessionStore::runs(const std::string& session_id) const {
  std::lock_guard lock(mutex_);
  Statement s(
      db_,
      "SELECT run_id, task, outcome, answer, error, started_at, ended_at FROM runs WHERE session_id = ? "
      "ORDER BY started_at, rowid");
  s.bind(1, session_id);
  std::vector<Json> out;
  while (s.step()) {
    out.push_back(Json{{"run_id", s.text(0)},
                       {"task", s.text(1)},
                       {"outcome", s.text(2)},
                       {"answer", s.text(3)},
                       {"error", s.text(4)},
                       {"started_at", s.integer(5)},
                       {"ended_at", s.is_null(6) ? Json(nullptr) : Json(s.integer(6))}});
  }
  return out;
}

}  // namespace agentrt::server
