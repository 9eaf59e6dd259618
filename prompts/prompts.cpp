#include "prompts/prompts.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>

namespace agentrt::prompts {
namespace detail {
struct Embedded {
  std::string_view path;
  std::string_view data;
};
extern const Embedded kEmbedded[];
extern const std::size_t kEmbeddedCount;
}  // namespace detail

namespace {
const detail::Embedded* find(std::string_view path) {
  for (std::size_t i = 0; i < detail::kEmbeddedCount; ++i) {
    if (detail::kEmbedded[i].path == path) return &detail::kEmbedded[i];
  }
  return nullptr;
}
}  // namespace

std::string_view get(std::string_view path) {
  if (const auto* e = find(path)) {
    // Editors end text files with a newline; it is not part of the prompt.
    std::string_view data = e->data;
    if (path.ends_with(".txt") && data.ends_with('\n')) data.remove_suffix(1);
    return data;
  }
  throw std::out_of_range("no embedded prompt file '" + std::string(path) + "' under prompts/");
}

bool has(std::string_view path) { return find(path) != nullptr; }

std::vector<std::string> list() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < detail::kEmbeddedCount; ++i) out.emplace_back(detail::kEmbedded[i].path);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace agentrt::prompts
