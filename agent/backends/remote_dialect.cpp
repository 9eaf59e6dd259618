#include "agent/backends/remote_dialect.h"

#include "agent/protocol.h"

namespace agentrt::agent {

std::string_view to_string(RemoteDialect dialect) {
  switch (dialect) {
    case RemoteDialect::VLLM:
      return "vLLM";
    case RemoteDialect::LlamaServer:
      return "llama-server";
    case RemoteDialect::LMDeploy:
      return "lmdeploy";
    case RemoteDialect::AgentRT:
      return "agentrt";
    case RemoteDialect::Unknown:
      break;
  }
  return "unknown";
}

RemoteDialect dialect_from_models(const Json& reply) {
  if (!reply.is_object() || !reply.contains("data") || !reply["data"].is_array() || reply["data"].empty() ||
      !reply["data"][0].is_object()) {
    return RemoteDialect::Unknown;
  }
  const std::string owner = reply["data"][0].value("owned_by", "");
  if (owner == "vllm") return RemoteDialect::VLLM;
  if (owner == "llamacpp") return RemoteDialect::LlamaServer;
  if (owner == "lmdeploy") return RemoteDialect::LMDeploy;
  if (owner == "agentrt") return RemoteDialect::AgentRT;
  return RemoteDialect::Unknown;
}

void ask_for_special_tokens(Json& body, RemoteDialect dialect) {
  if (dialect != RemoteDialect::LlamaServer) {
    body["skip_special_tokens"] = false;
    body["spaces_between_special_tokens"] = false;
  }
  if (dialect == RemoteDialect::LlamaServer || dialect == RemoteDialect::Unknown ||
      dialect == RemoteDialect::AgentRT) {
    // llama-server returns special tokens only when started with --special, or for the tokens a request
    // names here (each must be one token of its vocabulary; BOS and EOS are not needed back).
    Json names = Json::array();
    for (const auto& m : kMarkers) {
      if (m.token != Marker::Bos && m.token != Marker::Eos) names.push_back(std::string(m.text));
    }
    body["preserved_tokens"] = names;
  }
}

SchemaSupport schema_support(RemoteDialect dialect) {
  return dialect == RemoteDialect::VLLM || dialect == RemoteDialect::LlamaServer ? SchemaSupport::Json
                                                                                 : SchemaSupport::None;
}

void add_response_schema(Json& body, RemoteDialect dialect, const Json& schema) {
  if (dialect == RemoteDialect::VLLM) {
    body["response_format"] =
        Json{{"type", "json_schema"}, {"json_schema", Json{{"name", "reply"}, {"schema", schema}}}};
  } else if (dialect == RemoteDialect::LlamaServer) {
    body["json_schema"] = schema;
  } else {
    throw std::invalid_argument("this remote server (" + std::string(to_string(dialect)) +
                                ") cannot be asked to hold a reply to a JSON schema");
  }
}

bool has_protocol_marker(std::string_view text) {
  for (const auto& m : kMarkers) {
    if (m.token == Marker::Bos || m.token == Marker::Eos) continue;
    if (text.find(m.text) != std::string_view::npos) return true;
    if (!m.piece.empty() && text.find(m.piece) != std::string_view::npos) return true;
  }
  return false;
}

bool looks_like_a_call_without_markers(std::string_view text) {
  if (has_protocol_marker(text)) return false;
  if (text.find("```") != std::string_view::npos) return true;
  const size_t name = text.find("\"name\"");
  return name != std::string_view::npos && (text.find("\"parameters\"", name) != std::string_view::npos ||
                                            text.find("\"arguments\"", name) != std::string_view::npos);
}

std::string missing_markers_fix(RemoteDialect dialect) {
  switch (dialect) {
    case RemoteDialect::LlamaServer:
      return "llama-server removes special tokens from what it returns: restart it with --special (this "
             "build "
             "ignored the per-request \"preserved_tokens\" that asks for them, as older builds do)";
    case RemoteDialect::VLLM:
      return "vLLM removed them although the request said skip_special_tokens: false: check that the served "
             "tokenizer declares <|action_start|> and the other markers as special added tokens "
             "(tokenizer_config.json)";
    case RemoteDialect::LMDeploy:
      return "lmdeploy removed them although the request said skip_special_tokens: false: use an lmdeploy "
             "whose /v1/completions honours skip_special_tokens";
    case RemoteDialect::AgentRT:
    case RemoteDialect::Unknown:
      break;
  }
  return "make the server return special tokens as text (vLLM and lmdeploy: skip_special_tokens false, which "
         "was sent; llama-server: start it with --special)";
}

}  // namespace agentrt::agent
