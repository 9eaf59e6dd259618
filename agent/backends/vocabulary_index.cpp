#include "agent/backends/vocabulary_index.h"

#include <algorithm>
#include <numeric>

namespace agentrt::agent {
namespace {

// True when `b` is non-empty, holds no '"', '\\' or control byte, and is whole UTF-8 characters.
bool free_string_safe(const std::string& b) {
  if (b.empty()) return false;
  size_t i = 0;
  while (i < b.size()) {
    const auto c = static_cast<unsigned char>(b[i]);
    if (c < 0x20 || c == '"' || c == '\\') return false;
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > b.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(b[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

VocabularyIndex::VocabularyIndex(std::vector<std::string> token_bytes, std::vector<bool> control)
    : token_bytes_(std::move(token_bytes)) {
  control.resize(token_bytes_.size(), false);
  std::vector<int32_t> ids;
  for (size_t i = 0; i < token_bytes_.size(); ++i) {
    if (control[i] || token_bytes_[i].empty()) continue;
    ids.push_back(static_cast<int32_t>(i));
    max_token_bytes_ = std::max(max_token_bytes_, static_cast<int>(token_bytes_[i].size()));
    if (free_string_safe(token_bytes_[i])) {
      string_safe_.push_back(static_cast<int32_t>(i));
    } else {
      string_unsafe_.push_back(static_cast<int32_t>(i));
    }
  }
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return bytes(a) < bytes(b); });

  // Breadth-first construction over the sorted ids: a node covers a range of ids sharing its prefix, so its
  // children are the runs of equal next bytes inside that range.
  struct Range {
    uint32_t node;
    size_t begin, end, depth;
  };
  nodes_.push_back({});
  std::vector<Range> queue{{0, 0, ids.size(), 0}};
  for (size_t q = 0; q < queue.size(); ++q) {
    const Range r = queue[q];
    size_t i = r.begin;
    nodes_[r.node].first_token = static_cast<uint32_t>(tokens_at_.size());
    while (i < r.end && bytes(ids[i]).size() == r.depth) tokens_at_.push_back(ids[i++]);
    nodes_[r.node].token_count = static_cast<uint32_t>(tokens_at_.size()) - nodes_[r.node].first_token;
    nodes_[r.node].first_child = static_cast<uint32_t>(nodes_.size());
    while (i < r.end) {
      const unsigned char b = static_cast<unsigned char>(bytes(ids[i])[r.depth]);
      size_t j = i;
      while (j < r.end && static_cast<unsigned char>(bytes(ids[j])[r.depth]) == b) ++j;
      TrieNode child;
      child.byte = b;
      nodes_.push_back(child);
      queue.push_back({static_cast<uint32_t>(nodes_.size() - 1), i, j, r.depth + 1});
      ++nodes_[r.node].child_count;
      i = j;
    }
  }
}

void VocabularyIndex::walk(uint32_t node, int depth, std::vector<JsonSchemaMatcher>& stack,
                           std::vector<uint8_t>& allowed) const {
  const TrieNode& n = nodes_[node];
  for (uint32_t c = n.first_child; c < n.first_child + n.child_count; ++c) {
    stack[static_cast<size_t>(depth + 1)] = stack[static_cast<size_t>(depth)];
    if (!stack[static_cast<size_t>(depth + 1)].feed(nodes_[c].byte)) continue;
    const TrieNode& child = nodes_[c];
    for (uint32_t t = child.first_token; t < child.first_token + child.token_count; ++t) {
      allowed[static_cast<size_t>(tokens_at_[t])] = 1;
    }
    if (child.child_count > 0) walk(c, depth + 1, stack, allowed);
  }
}

void VocabularyIndex::allowed_tokens(const JsonSchemaMatcher& matcher, std::vector<uint8_t>& allowed) const {
  allowed.assign(token_bytes_.size(), 0);
  if (matcher.failed()) return;
  if (matcher.in_free_string() &&
      matcher.string_length() + max_token_bytes_ < JsonSchemaMatcher::kMaxStringBytes) {
    for (int32_t id : string_safe_) allowed[static_cast<size_t>(id)] = 1;
    for (int32_t id : string_unsafe_) {
      JsonSchemaMatcher m = matcher;
      if (m.feed(bytes(id))) allowed[static_cast<size_t>(id)] = 1;
    }
    return;
  }
  std::vector<JsonSchemaMatcher> stack(static_cast<size_t>(max_token_bytes_ + 1), matcher);
  walk(0, 0, stack, allowed);
}

}  // namespace agentrt::agent
