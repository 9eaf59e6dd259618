// The renderer's inputs: a JSON document {"messages": [...], "tools": [...]} (or anything else) read as users
// send it. Bad input must end in std::invalid_argument / JSON errors, never a crash.
// fuzz-libs: agentrt_agent
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "agent/message_io.h"
#include "agent/renderer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using agentrt::Json;
  const Json doc = Json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  for (auto flavor : {agentrt::agent::Flavor::InternLM2, agentrt::agent::Flavor::LMDeploy}) {
    try {
      agentrt::agent::RenderOptions options;
      options.flavor = flavor;
      if (doc.is_object() && doc.contains("tools")) options.tools = doc["tools"];
      const Json messages = doc.is_object() && doc.contains("messages") ? doc["messages"] : doc;
      const auto rendered = agentrt::agent::render_prompt(agentrt::agent::messages_from_json(messages), options);
      if (rendered.size() > 64 * size + 4096) __builtin_trap();  // output bounded by the input
    } catch (const std::invalid_argument&) {
    } catch (const Json::exception&) {
    }
  }
  return 0;
}
