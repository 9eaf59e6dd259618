// The session's folder as the Lua code sees it: every path is relative to it and stays inside it, and every
// write is counted against the file caps and recorded so the cell's result can list the files it created.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/cell_result.h"
#include "sandbox/limits.h"

namespace agentrt::sandbox {

class Workspace {
 public:
  Workspace(std::filesystem::path root, const Limits& limits);

  const std::filesystem::path& root() const { return root_; }

  // The absolute path of `relative`; throws std::runtime_error for absolute paths, paths that leave the
  // workspace
  // (.., symbolic links pointing out) and empty or NUL-containing names.
  std::filesystem::path resolve(std::string_view relative) const;

  std::string read(std::string_view relative) const;
  // Writes (replaces) a file, creating parent folders; throws when a cap would be passed.
  void write(std::string_view relative, std::string_view bytes, std::string summary = {});
  struct Entry {
    std::string name;
    std::uintmax_t size = 0;
    bool directory = false;
  };
  std::vector<Entry> list(std::string_view relative) const;
  bool exists(std::string_view relative) const;

  // The files written since begin_cell().
  void begin_cell() { created_.clear(); }
  const std::vector<CreatedFile>& created() const { return created_; }

 private:
  std::filesystem::path root_;
  const Limits& limits_;
  std::size_t total_written_ = 0;
  int files_written_ = 0;
  std::vector<CreatedFile> created_;
};

// "image/svg+xml" for .svg and so on; "application/octet-stream" when unknown.
std::string mime_of(const std::filesystem::path& path);

}  // namespace agentrt::sandbox
