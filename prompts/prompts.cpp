#include "prompts/prompts.h"

#include "prompts/embedded_files.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>

namespace agentrt::prompts {
namespace detail {
extern const EmbeddedFiles kEmbedded;  // prompts_embedded.cpp, generated from the files of this folder
}  // namespace detail

std::string_view get(std::string_view path) {
  if (const auto* e = detail::kEmbedded.find(path)) {
    // Editors end text files with a newline; it is not part of the prompt.
    std::string_view data = e->data;
    if (path.ends_with(".txt") && data.ends_with('\n')) data.remove_suffix(1);
    return data;
  }
  throw std::out_of_range("no embedded prompt file '" + std::string(path) + "' under prompts/");
}

bool has(std::string_view path) {
  return detail::kEmbedded.find(path) != nullptr;
}

std::vector<std::string> list() {
  std::vector<std::string> out;
  for (const auto& file : detail::kEmbedded) out.emplace_back(file.path);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace agentrt::prompts
