// The InternLM2 protocol's special tokens (spec §1): their two spellings and their meaning, shared by the
// renderer, the parser and the backends. Ids are those of the InternLM2 vocabulary; a local model with another
// vocabulary (the demo model) supplies its own ids through LLMBackend::marker_ids().
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

namespace agentrt::agent {

enum class Marker { ImStart, ImEnd, ActionStart, ActionEnd, Plugin, Interpreter, Bos, Eos };

struct MarkerSpelling {
  Marker marker;
  std::string_view text;         // the readable name HF adds, e.g. "<|im_start|>"
  std::string_view unused_text;  // the raw sentencepiece piece, e.g. "[UNUSED_TOKEN_146]" ("" when none)
  int32_t internlm2_id;          // id in the 92,544-token InternLM2 vocabulary
};

inline constexpr std::array<MarkerSpelling, 8> kMarkers = {{
    {Marker::Plugin, "<|plugin|>", "[UNUSED_TOKEN_141]", 92538},
    {Marker::Interpreter, "<|interpreter|>", "[UNUSED_TOKEN_142]", 92539},
    {Marker::ActionEnd, "<|action_end|>", "[UNUSED_TOKEN_143]", 92540},
    {Marker::ActionStart, "<|action_start|>", "[UNUSED_TOKEN_144]", 92541},
    {Marker::ImEnd, "<|im_end|>", "[UNUSED_TOKEN_145]", 92542},
    {Marker::ImStart, "<|im_start|>", "[UNUSED_TOKEN_146]", 92543},
    {Marker::Bos, "<s>", "", 1},
    {Marker::Eos, "</s>", "", 2},
}};

const MarkerSpelling& spelling(Marker marker);
inline std::string_view text_of(Marker marker) { return spelling(marker).text; }

// Token id → marker, for a vocabulary.
using MarkerIds = std::map<int32_t, Marker>;
// The ids of the InternLM2 vocabulary.
MarkerIds internlm2_marker_ids();

}  // namespace agentrt::agent
