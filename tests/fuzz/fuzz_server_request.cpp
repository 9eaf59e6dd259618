// The server's request handling on arbitrary bodies: parsing, reading /v1/chat/completions and /v1/completions
// requests, rendering the chat prompt and deriving the generation parameters. Every bad body must end in an
// ApiError (a 4xx with an OpenAI error object); any other exception or a crash is a finding.
// fuzz-libs: agentrt_apps
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/protocol.h"
#include "apps/server/api_error.h"
#include "apps/server/openai_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentrt;
  const std::string body(reinterpret_cast<const char*>(data), size);
  Json json;
  try {
    json = server::parse_body(body);
  } catch (const server::ApiError&) {
    return 0;
  }
  try {
    const auto chat = server::parse_chat_request(json, "agentrt");
    for (auto flavor : {agent::Flavor::InternLM2, agent::Flavor::LMDeploy}) {
      (void)server::build_chat_prompt(chat, flavor);
    }
    (void)server::chat_generation_params(chat, agent::internlm2_marker_ids(), true);
  } catch (const server::ApiError&) {
  }
  try {
    (void)server::parse_completion_request(json, "agentrt");
  } catch (const server::ApiError&) {
  }
  return 0;
}
