// The InternLM2 protocol's special tokens as the agent reads them: markers with their two spellings, shared
// by the renderer, the parser and the backends. The table itself lives in engine/special_tokens.h (the
// tokenizer needs it too); this header names it in the agent's words. Ids are those of the InternLM2
// vocabulary; a local model with another vocabulary (the demo model) supplies its own ids through
// LLMBackend::marker_ids().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/special_tokens.h"

namespace agentrt::agent {

using Marker = engine::ProtocolToken;
using MarkerSpelling = engine::ProtocolTokenSpelling;
inline constexpr const auto& kMarkers = engine::kProtocolTokens;

inline const MarkerSpelling& spelling(Marker marker) {
  return engine::spelling_of(marker);
}
inline std::string_view text_of(Marker marker) {
  return spelling(marker).text;
}

// Token id → marker, for a vocabulary.
using MarkerIds = std::map<int32_t, Marker>;
// The ids of the InternLM2 vocabulary.
MarkerIds internlm2_marker_ids();

// Both spellings of a marker, the readable one first (one only for <s> and </s>).
std::vector<std::string_view> spellings_of(Marker marker);

// Where a turn ends: the stop strings (<|im_end|> in both spellings) and the stop ids of `ids` (<|im_end|>
// and
// </s>), appended to what the caller already has.
void add_end_of_turn_stops(std::vector<std::string>& stop, std::vector<int32_t>& stop_ids,
                           const MarkerIds& ids);

}  // namespace agentrt::agent
