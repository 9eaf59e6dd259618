// The streaming action parser on arbitrary bytes, fed in arbitrary chunks: the first byte picks the chunking,
// the rest is model output. The streamed result must equal the one-shot parse of the same text.
// fuzz-libs: agentrt_agent
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/action_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 23;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  agentrt::agent::ActionParser streamed;
  std::string released;
  for (size_t i = 0; i < text.size(); i += chunk) {
    for (const auto& e : streamed.feed_text(text.substr(i, chunk))) released += e.text;
  }
  for (const auto& e : streamed.finish()) released += e.text;
  const auto whole = agentrt::agent::ActionParser::parse(text);
  if (released != whole.text || streamed.reply().text != whole.text ||
      streamed.reply().actions.size() != whole.actions.size()) {
    std::abort();
  }
  for (size_t i = 0; i < whole.actions.size(); ++i) {
    if (whole.actions[i].raw != streamed.reply().actions[i].raw) std::abort();
  }
  return 0;
}
