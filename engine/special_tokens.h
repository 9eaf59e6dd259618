// The InternLM2 protocol's special tokens (../shared/spec/internlm2-protocol.md §1): the one table of their
// spellings and ids. The tokenizer splits them out of text before sentencepiece, the tokenizer trainer writes
// them into a new vocabulary, and the agent's protocol (agent/protocol.h) derives its markers from it.
// Header-only and dependency-free, so the agent core may include it without the rest of the engine.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace agentrt::engine {

// What a special token means in the protocol.
enum class ProtocolToken { ImStart, ImEnd, ActionStart, ActionEnd, Plugin, Interpreter, Bos, Eos };

struct ProtocolTokenSpelling {
  ProtocolToken token;
  std::string_view text;   // the readable name HF adds, e.g. "<|im_start|>"
  std::string_view piece;  // the raw sentencepiece piece, e.g. "[UNUSED_TOKEN_146]" ("" for <s> and </s>)
  int32_t internlm2_id;    // id in the 92,544-token InternLM2 vocabulary
};

inline constexpr int kInternLM2VocabSize = 92544;

// The six protocol tokens in vocabulary order (they are the last six ids of InternLM2's vocabulary), then BOS
// and EOS, which sentencepiece itself knows.
inline constexpr std::array<ProtocolTokenSpelling, 8> kProtocolTokens = {{
    {ProtocolToken::Plugin, "<|plugin|>", "[UNUSED_TOKEN_141]", 92538},
    {ProtocolToken::Interpreter, "<|interpreter|>", "[UNUSED_TOKEN_142]", 92539},
    {ProtocolToken::ActionEnd, "<|action_end|>", "[UNUSED_TOKEN_143]", 92540},
    {ProtocolToken::ActionStart, "<|action_start|>", "[UNUSED_TOKEN_144]", 92541},
    {ProtocolToken::ImEnd, "<|im_end|>", "[UNUSED_TOKEN_145]", 92542},
    {ProtocolToken::ImStart, "<|im_start|>", "[UNUSED_TOKEN_146]", 92543},
    {ProtocolToken::Bos, "<s>", "", 1},
    {ProtocolToken::Eos, "</s>", "", 2},
}};
// How many of kProtocolTokens are the protocol's own added pieces (the rest are BOS and EOS).
inline constexpr std::size_t kAddedProtocolTokenCount = 6;

constexpr const ProtocolTokenSpelling& spelling_of(ProtocolToken token) {
  for (const auto& s : kProtocolTokens) {
    if (s.token == token) return s;
  }
  return kProtocolTokens[0];  // unreachable: every ProtocolToken has a spelling
}

}  // namespace agentrt::engine
