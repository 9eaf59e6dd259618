// `agentrt index DIR [--db FILE]`: builds or updates the local search index of a folder (only changed files
// are read again; removed files are dropped) so that the `search` tool can find its documents offline.
#include <iostream>

#include "apps/command.h"
#include "tools/local_index.h"

namespace agentrt::apps {
namespace {

struct IndexFlags {
  std::string dir;
  std::string db;
};

const CommandRegistrar reg(45, [](CLI::App& app) {
  auto f = std::make_shared<IndexFlags>();
  auto* cmd = app.add_subcommand(
      "index", "Build or update the local search index of a folder (txt, md, html, csv, json)");
  cmd->add_option("dir", f->dir, "Folder of documents")->required();
  cmd->add_option("--db", f->db, "Index database (default: DIR/.agentrt-index.db)");
  cmd->callback([f] {
    if (!std::filesystem::is_directory(f->dir)) throw std::runtime_error("not a folder: " + f->dir);
    const std::filesystem::path db =
        f->db.empty() ? tools::LocalIndex::default_db_path(f->dir) : std::filesystem::path(f->db);
    tools::LocalIndex index(db);
    const tools::IndexStats s = index.update(f->dir);
    std::cout << "indexed " << index.root() << " into " << db.string() << ": " << s.added << " added, "
              << s.updated << " updated, " << s.removed << " removed, " << s.unchanged << " unchanged, "
              << s.skipped << " skipped; " << index.document_count() << " documents\n";
  });
});

}  // namespace
}  // namespace agentrt::apps
