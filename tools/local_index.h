// The offline search index: the documents of one folder (txt, md, html, csv, json) in an SQLite FTS5 table,
// ranked by bm25 with the title weighted above the body, with highlighted snippets. Updates are incremental:
// a file whose size and mtime are unchanged is not read, and one whose content hash is unchanged is not
// re-indexed; files that disappeared are dropped. Results are addressed as "local:<path relative to the
// folder>", which open_url resolves from the index itself (no file system access at search time).
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentrt::tools {

struct IndexStats {
  int added = 0;
  int updated = 0;
  int removed = 0;
  int unchanged = 0;
  int skipped = 0;  // unsupported type or too large
};

struct LocalHit {
  std::string path;  // relative to the indexed folder, '/'-separated
  std::string title;
  std::string snippet;  // with the matched words in **bold**
  double score = 0;     // bm25: lower is better
};

struct LocalDocument {
  std::string path;
  std::string title;
  std::string text;
};

class LocalIndex {
 public:
  // Opens (or, with create, creates) the index database; throws std::runtime_error naming the file otherwise.
  explicit LocalIndex(const std::filesystem::path& db_path, bool create = true);
  ~LocalIndex();
  LocalIndex(const LocalIndex&) = delete;
  LocalIndex& operator=(const LocalIndex&) = delete;

  // Brings the index up to date with `root` (recursively; hidden files and folders are skipped). An index
  // built for another folder is rebuilt.
  IndexStats update(const std::filesystem::path& root);

  // Best `top_k` documents for `query` (all words first; any word if that finds nothing). Throws
  // std::invalid_argument when the query has no words.
  std::vector<LocalHit> search(std::string_view query, int top_k) const;

  // The indexed text of a document, by its relative path; nullopt when it is not in the index.
  std::optional<LocalDocument> open(std::string_view path) const;

  std::size_t document_count() const;
  // The folder the index was built from ("" before the first update).
  std::string root() const;

  // Where `agentrt index DIR` puts the database unless told otherwise.
  static std::filesystem::path default_db_path(const std::filesystem::path& root);
  // File types the index reads (lower-case extensions with the dot).
  static bool is_indexable(const std::filesystem::path& file);

  static constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

 private:
  void exec(const char* sql) const;
  std::vector<LocalHit> run_query(const std::string& match, int top_k) const;

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

}  // namespace agentrt::tools
