// The vocabulary as a byte trie, for computing which tokens may come next under a JSON-schema matcher: a walk
// over the trie feeds each edge's byte to a copy of the matcher and prunes a subtree at the first refusal, so
// the cost follows the number of viable prefixes, not the vocabulary size. Inside a free string almost every
// token is viable; that case takes a precomputed list instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/backends/json_schema_matcher.h"

namespace agentrt::agent {

class VocabularyIndex {
 public:
  // token_bytes[id]: the bytes token id contributes; control[id]: a special or control token, never allowed
  // inside JSON text (BOS, EOS, the protocol markers).
  VocabularyIndex(std::vector<std::string> token_bytes, std::vector<bool> control);

  size_t size() const { return token_bytes_.size(); }
  const std::string& bytes(int32_t id) const { return token_bytes_[static_cast<size_t>(id)]; }

  // allowed[id] = 1 for every token whose bytes the matcher accepts from its current state, 0 otherwise.
  void allowed_tokens(const JsonSchemaMatcher& matcher, std::vector<uint8_t>& allowed) const;

 private:
  struct TrieNode {
    uint32_t first_child = 0;  // children are contiguous, sorted by byte
    uint32_t child_count = 0;
    uint32_t first_token = 0;  // tokens ending exactly here: tokens_at_[first_token .. + token_count)
    uint32_t token_count = 0;
    unsigned char byte = 0;
  };
  void walk(uint32_t node, int depth, std::vector<JsonSchemaMatcher>& stack,
            std::vector<uint8_t>& allowed) const;

  std::vector<std::string> token_bytes_;
  std::vector<TrieNode> nodes_;  // nodes_[0] is the root
  std::vector<int32_t> tokens_at_;
  std::vector<int32_t> string_safe_;    // tokens that continue any free string and leave it free
  std::vector<int32_t> string_unsafe_;  // other non-control tokens, checked one by one inside strings
  int max_token_bytes_ = 0;
};

}  // namespace agentrt::agent
