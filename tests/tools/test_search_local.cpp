// The local index over the bundled folder tests/tools/data/docs: expected ranking for known queries,
// snippets, incremental updates, and the search / open_url tools on top of it.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tools/local_index.h"
#include "tools/open_url_tool.h"
#include "tools/search_tool.h"

namespace agentrt::tools {
namespace {
namespace fs = std::filesystem;

class LocalSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "agentrt-search-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    docs_ = dir_ / "docs";
    fs::copy(AGENTRT_SOURCE_DIR "/tests/tools/data/docs", docs_, fs::copy_options::recursive);
    db_ = dir_ / "index.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string top_path(const LocalIndex& index, const std::string& query) {
    auto hits = index.search(query, 5);
    return hits.empty() ? std::string("(none)") : hits.front().path;
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(docs_ / rel, std::ios::trunc) << text;
  }

  fs::path dir_, docs_, db_;
};

TEST_F(LocalSearchTest, IndexesSupportedFilesOnly) {
  LocalIndex index(db_);
  IndexStats stats = index.update(docs_);
  EXPECT_EQ(stats.added, 7);    // md x2, txt x2 (one nested), html, csv, json
  EXPECT_EQ(stats.skipped, 1);  // unsupported.xyz; the hidden folder is not even visited
  EXPECT_EQ(index.document_count(), 7u);
  EXPECT_EQ(index.root(), fs::canonical(docs_).string());
  for (const auto& hit : index.search("hidden note", 10))
    EXPECT_EQ(hit.path.find(".hidden"), std::string::npos);
}

TEST_F(LocalSearchTest, RanksTheExpectedDocumentFirst) {
  LocalIndex index(db_);
  index.update(docs_);
  EXPECT_EQ(top_path(index, "borrow checker"), "rust-ownership.md");
  EXPECT_EQ(top_path(index, "event loop coroutines"), "python-asyncio.txt");
  EXPECT_EQ(top_path(index, "bm25 tokenizer"), "sqlite-fts5.html");
  EXPECT_EQ(top_path(index, "Ethiopia arabica"), "coffee-prices.csv");
  EXPECT_EQ(top_path(index, "tomatoes compost"), "nested/gardening.txt");
  EXPECT_EQ(top_path(index, "Great Red Spot"), "planets.json");
  // Both mention volcanoes; the title match ranks first (and "volcanoes" stems to "volcano").
  auto hits = index.search("volcano", 5);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].path, "volcanoes.md");
  EXPECT_EQ(hits[1].path, "planets.json");
  EXPECT_LT(hits[0].score, hits[1].score);
  // Diacritics are folded: "Eyjafjallajokull" finds "Eyjafjallajökull".
  EXPECT_EQ(top_path(index, "Eyjafjallajokull"), "volcanoes.md");
}

TEST_F(LocalSearchTest, TitlesAndSnippets) {
  LocalIndex index(db_);
  index.update(docs_);
  auto hits = index.search("bm25", 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].title, "Full-text search with SQLite FTS5");  // from <title>
  EXPECT_NE(hits[0].snippet.find("**bm25**"), std::string::npos) << hits[0].snippet;
  EXPECT_EQ(hits[0].snippet.find("tracking code"), std::string::npos);  // script text is not indexed
  EXPECT_EQ(index.search("tracking", 5).size(), 0u);
  hits = index.search("lifetimes", 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].title, "Ownership in Rust");                               // first markdown heading
  EXPECT_EQ(index.search("asyncio gather", 1).at(0).title, "python-asyncio");  // txt: the file name
}

TEST_F(LocalSearchTest, AnyWordWhenAllWordsFindNothingAndQuerySyntaxIsInert) {
  LocalIndex index(db_);
  index.update(docs_);
  auto hits = index.search("tomatoes magma", 5);  // no document has both
  ASSERT_EQ(hits.size(), 2u);
  // FTS5 operators in user text are plain words, not syntax errors.
  EXPECT_NO_THROW(index.search("rust AND (NOT \"borrow* NEAR(", 5));
  EXPECT_EQ(top_path(index, "\"borrow\" checker*"), "rust-ownership.md");
  EXPECT_THROW(index.search("  ?! ", 5), std::invalid_argument);
}

TEST_F(LocalSearchTest, UpdatesAreIncremental) {
  {
    LocalIndex index(db_);
    index.update(docs_);
  }
  LocalIndex index(db_);  // reopened: state lives in the database
  IndexStats again = index.update(docs_);
  EXPECT_EQ(again.added + again.updated + again.removed, 0);
  EXPECT_EQ(again.unchanged, 7);

  write("python-asyncio.txt", "Rewritten: trio and anyio are alternatives with structured concurrency.\n");
  fs::remove(docs_ / "coffee-prices.csv");
  write("nested/new-note.md", "# Sourdough\n\nA starter of flour and water ferments for days.\n");
  // Same content, new mtime: read and hashed but not re-indexed.
  fs::last_write_time(docs_ / "rust-ownership.md",
                      fs::last_write_time(docs_ / "rust-ownership.md") + std::chrono::hours(1));
  IndexStats changed = index.update(docs_);
  EXPECT_EQ(changed.updated, 1);
  EXPECT_EQ(changed.removed, 1);
  EXPECT_EQ(changed.added, 1);
  EXPECT_EQ(changed.unchanged, 5);
  EXPECT_EQ(index.document_count(), 7u);

  EXPECT_EQ(top_path(index, "structured concurrency"), "python-asyncio.txt");
  EXPECT_EQ(index.search("coroutines", 5).size(), 0u);
  EXPECT_EQ(index.search("Ethiopia", 5).size(), 0u);
  EXPECT_EQ(top_path(index, "sourdough starter"), "nested/new-note.md");
}

TEST_F(LocalSearchTest, SearchAndOpenUrlTools) {
  {
    LocalIndex index(db_);
    index.update(docs_);
  }
  SearchTool search(Json{{"index", db_.string()}}, dir_);
  agent::ToolContext ctx;
  auto result = search.run({{"query", "borrow checker"}, {"top_k", 3}}, ctx);
  ASSERT_TRUE(result.ok) << result.text;
  ASSERT_TRUE(result.data.is_array());
  ASSERT_GE(result.data.size(), 1u);
  EXPECT_EQ(result.data[0]["url"], "local:rust-ownership.md");
  EXPECT_EQ(result.data[0]["title"], "Ownership in Rust");
  EXPECT_NE(result.text.find("[1] Ownership in Rust\n    url: local:rust-ownership.md\n"), std::string::npos)
      << result.text;

  OpenUrlTool open(Json{{"max_chars", 120}}, db_);
  auto page = open.run({{"url", "local:sqlite-fts5.html"}}, ctx);
  ASSERT_TRUE(page.ok) << page.text;
  EXPECT_EQ(
      page.text.rfind("Title: Full-text search with SQLite FTS5\nURL: local:sqlite-fts5.html\n\n# FTS5", 0),
      0u)
      << page.text;
  EXPECT_NE(page.text.find("[... cut: showing the first"), std::string::npos) << page.text;
  auto missing = open.run({{"url", "local:../../etc/passwd"}}, ctx);
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.text.find("not in the local index"), std::string::npos) << missing.text;

  auto none = search.run({{"query", "quantum chromodynamics"}}, ctx);
  EXPECT_TRUE(none.ok);
  EXPECT_NE(none.text.find("No results"), std::string::npos);
  auto bad = search.run({{"query", "x"}, {"source", "moon"}}, ctx);
  EXPECT_FALSE(bad.ok);
}

TEST_F(LocalSearchTest, MissingIndexIsAClearError) {
  SearchTool search(Json{{"index", (dir_ / "nope.db").string()}, {"source", "local"}}, dir_);
  agent::ToolContext ctx;
  auto result = search.run({{"query", "rust"}}, ctx);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.text.find("agentrt index DIR"), std::string::npos) << result.text;
  EXPECT_FALSE(fs::exists(dir_ / "nope.db"));  // searching never creates an index
  SearchTool unconfigured(Json{{"index", (dir_ / "nope.db").string()}, {"web", {{"backend", ""}}}}, dir_);
  auto none = unconfigured.run({{"query", "rust"}, {"source", "web"}}, ctx);
  EXPECT_FALSE(none.ok);
}

TEST(LocalIndexErrors, BadFolderAndBadDatabase) {
  std::string pattern = (fs::temp_directory_path() / "agentrt-search-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  {
    LocalIndex index(dir / "a.db");
    EXPECT_THROW(index.update(dir / "does-not-exist"), std::runtime_error);
  }
  std::ofstream(dir / "garbage.db")
      << "this is not an SQLite database, just text that is long enough to matter";
  EXPECT_THROW(LocalIndex(dir / "garbage.db"), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace agentrt::tools
