// Files compiled into the program by cmake/embed_files.cmake (the prompts, the web page), looked up by their
// path relative to the folder they were embedded from. The generated source defines one EmbeddedFiles table.
#pragma once

#include <cstddef>
#include <string_view>

namespace agentrt::prompts {

struct EmbeddedFile {
  std::string_view path;  // relative to the embedded folder, e.g. "system/plugin.en.txt"
  std::string_view data;
};

struct EmbeddedFiles {
  const EmbeddedFile* files;
  std::size_t count;

  // The file of that path, or null.
  const EmbeddedFile* find(std::string_view path) const {
    for (std::size_t i = 0; i < count; ++i) {
      if (files[i].path == path) return &files[i];
    }
    return nullptr;
  }
  const EmbeddedFile* begin() const { return files; }
  const EmbeddedFile* end() const { return files + count; }
};

}  // namespace agentrt::prompts
