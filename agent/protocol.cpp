#include "agent/protocol.h"

namespace agentrt::agent {

MarkerIds internlm2_marker_ids() {
  MarkerIds ids;
  for (const auto& s : kMarkers) ids[s.internlm2_id] = s.token;
  return ids;
}

std::vector<std::string_view> spellings_of(Marker marker) {
  const auto& s = spelling(marker);
  if (s.piece.empty()) return {s.text};
  return {s.text, s.piece};
}

void add_end_of_turn_stops(std::vector<std::string>& stop, std::vector<int32_t>& stop_ids,
                           const MarkerIds& ids) {
  for (const auto& [id, marker] : ids) {
    if (marker == Marker::ImEnd || marker == Marker::Eos) stop_ids.push_back(id);
  }
  for (const auto spelled : spellings_of(Marker::ImEnd)) stop.emplace_back(spelled);
}

}  // namespace agentrt::agent
