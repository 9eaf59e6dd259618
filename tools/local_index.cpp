#include "tools/local_index.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tools/html_text.h"

namespace agentrt::tools {
namespace fs = std::filesystem;
namespace {

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("index: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("index: ") + sqlite3_errmsg(db_));
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string fnv1a_hex(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Extracted {
  std::string title;
  std::string text;
};

// Title and searchable text of one file, by type.
Extracted extract(const fs::path& file, const std::string& content) {
  const std::string ext = lower(file.extension().string());
  Extracted out;
  out.title = file.stem().string();
  if (ext == ".html" || ext == ".htm") {
    HtmlText page = html_to_text(content);
    if (!page.title.empty()) out.title = page.title;
    out.text = std::move(page.text);
    return out;
  }
  out.text = content;
  if (ext == ".md" || ext == ".markdown") {
    std::istringstream lines(content);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("# ", 0) == 0) {
        out.title = line.substr(2);
        while (!out.title.empty() && std::isspace(static_cast<unsigned char>(out.title.back())))
          out.title.pop_back();
        break;
      }
    }
  }
  return out;
}

// FTS5 MATCH text from free words: each word quoted (so no user text is FTS syntax), joined by AND or OR.
std::string match_expression(std::string_view query, bool any) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char c : query) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      word += c;
    } else {
      flush();
    }
  }
  flush();
  if (words.empty()) throw std::invalid_argument("the query has no words to search for");
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += any ? " OR " : " ";
    out += "\"" + w + "\"";
  }
  return out;
}

// A snippet on one line: the document's line breaks and runs of spaces become single spaces.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::int64_t mtime_ns(const fs::path& file) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(fs::last_write_time(file).time_since_epoch())
      .count();
}

}  // namespace

LocalIndex::LocalIndex(const fs::path& db_path, bool create) : path_(db_path) {
  if (!create && !fs::exists(db_path)) {
    throw std::runtime_error("no search index at " + db_path.string() +
                             " (build one with `agentrt index DIR`)");
  }
  const int flags = create ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READWRITE;
  if (sqlite3_open_v2(db_path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open the search index " + db_path.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    exec(
        "CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL,"
        " size INTEGER NOT NULL, hash TEXT NOT NULL, doc_id INTEGER NOT NULL)");
    exec(
        "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(title, body, path UNINDEXED,"
        " tokenize = 'porter unicode61 remove_diacritics 2')");
  } catch (const std::runtime_error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("the search index " + db_path.string() + " is not usable: " + e.what());
  }
}

LocalIndex::~LocalIndex() {
  sqlite3_close(db_);
}

void LocalIndex::exec(const char* sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("index: " + why);
  }
}

fs::path LocalIndex::default_db_path(const fs::path& root) {
  return root / ".agentrt-index.db";
}

bool LocalIndex::is_indexable(const fs::path& file) {
  static const std::set<std::string> kTypes = {".txt", ".md", ".markdown", ".html", ".htm", ".csv", ".json"};
  return kTypes.count(lower(file.extension().string())) > 0;
}

std::string LocalIndex::root() const {
  Statement q(db_, "SELECT value FROM meta WHERE key = 'root'");
  return q.step() ? q.text(0) : std::string();
}

std::size_t LocalIndex::document_count() const {
  Statement q(db_, "SELECT count(*) FROM files");
  q.step();
  return static_cast<std::size_t>(q.integer(0));
}

IndexStats LocalIndex::update(const fs::path& root_arg) {
  std::error_code ec;
  const fs::path root = fs::canonical(root_arg, ec);
  if (ec || !fs::is_directory(root)) throw std::runtime_error("not a folder: " + root_arg.string());

  IndexStats stats;
  exec("BEGIN IMMEDIATE");
  try {
    if (const std::string previous = this->root(); !previous.empty() && previous != root.string()) {
      exec("DELETE FROM files");
      exec("DELETE FROM docs");
    }
    Statement set_root(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('root', ?1)");
    set_root.bind(1, root.string()).step();

    struct Known {
      std::int64_t mtime, size, doc_id;
      std::string hash;
    };
    std::map<std::string, Known> known;
    {
      Statement all(db_, "SELECT path, mtime_ns, size, hash, doc_id FROM files");
      while (all.step()) known[all.text(0)] = {all.integer(1), all.integer(2), all.integer(4), all.text(3)};
    }
    Statement touch(db_, "UPDATE files SET mtime_ns = ?2, size = ?3 WHERE path = ?1");
    Statement drop_doc(db_, "DELETE FROM docs WHERE rowid = ?1");
    Statement add_doc(db_, "INSERT INTO docs(title, body, path) VALUES(?1, ?2, ?3)");
    Statement put_file(
        db_, "INSERT OR REPLACE INTO files(path, mtime_ns, size, hash, doc_id) VALUES(?1, ?2, ?3, ?4, ?5)");
    Statement drop_file(db_, "DELETE FROM files WHERE path = ?1");

    std::set<std::string> seen;
    auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
    for (; it != fs::recursive_directory_iterator(); ++it) {
      const fs::path& p = it->path();
      if (p.filename().string().rfind('.', 0) == 0) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      if (!is_indexable(p)) {
        ++stats.skipped;
        continue;
      }
      const auto size = static_cast<std::int64_t>(it->file_size());
      if (static_cast<std::size_t>(size) > kMaxFileBytes) {
        ++stats.skipped;
        continue;
      }
      const std::string rel = fs::relative(p, root).generic_string();
      const std::int64_t mtime = mtime_ns(p);
      seen.insert(rel);
      auto k = known.find(rel);
      if (k != known.end() && k->second.mtime == mtime && k->second.size == size) {
        ++stats.unchanged;
        continue;
      }
      const std::string content = read_all(p);
      const std::string hash = fnv1a_hex(content);
      if (k != known.end() && k->second.hash == hash) {
        touch.bind(1, rel).bind(2, mtime).bind(3, size).step();
        touch.reset();
        ++stats.unchanged;
        continue;
      }
      if (k != known.end()) {
        drop_doc.bind(1, k->second.doc_id).step();
        drop_doc.reset();
      }
      const Extracted doc = extract(p, content);
      add_doc.bind(1, doc.title).bind(2, doc.text).bind(3, rel).step();
      add_doc.reset();
      const std::int64_t doc_id = sqlite3_last_insert_rowid(db_);
      put_file.bind(1, rel).bind(2, mtime).bind(3, size).bind(4, hash).bind(5, doc_id).step();
      put_file.reset();
      ++(k != known.end() ? stats.updated : stats.added);
    }
    for (const auto& [rel, info] : known) {
      if (seen.count(rel)) continue;
      drop_doc.bind(1, info.doc_id).step();
      drop_doc.reset();
      drop_file.bind(1, rel).step();
      drop_file.reset();
      ++stats.removed;
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  return stats;
}

std::vector<LocalHit> LocalIndex::run_query(const std::string& match, int top_k) const {
  Statement q(
      db_,
      "SELECT path, title, snippet(docs, 1, '**', '**', ' ... ', 24), bm25(docs, 8.0, 1.0, 0.0) AS score"
      " FROM docs WHERE docs MATCH ?1 ORDER BY score LIMIT ?2");
  q.bind(1, match).bind(2, static_cast<std::int64_t>(top_k));
  std::vector<LocalHit> hits;
  while (q.step()) hits.push_back({q.text(0), q.text(1), one_line(q.text(2)), q.real(3)});
  return hits;
}

std::vector<LocalHit> LocalIndex::search(std::string_view query, int top_k) const {
  top_k = std::clamp(top_k, 1, 50);
  std::vector<LocalHit> hits = run_query(match_expression(query, false), top_k);
  if (hits.empty()) hits = run_query(match_expression(query, true), top_k);
  return hits;
}

std::optional<LocalDocument> LocalIndex::open(std::string_view path) const {
  Statement q(db_, "SELECT d.title, d.body FROM files f JOIN docs d ON d.rowid = f.doc_id WHERE f.path = ?1");
  q.bind(1, path);
  if (!q.step()) return std::nullopt;
  return LocalDocument{std::string(path), q.text(0), q.text(1)};
}

}  // namespace agentrt::tools
