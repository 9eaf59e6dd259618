#include "agent/protocol.h"

namespace agentrt::agent {

const MarkerSpelling& spelling(Marker marker) {
  for (const auto& s : kMarkers) {
    if (s.marker == marker) return s;
  }
  return kMarkers[0];  // unreachable: every Marker has a spelling
}

MarkerIds internlm2_marker_ids() {
  MarkerIds ids;
  for (const auto& s : kMarkers) ids[s.internlm2_id] = s.marker;
  return ids;
}

}  // namespace agentrt::agent
