#include "apps/server/openai_fields.h"

#include <functional>
#include <map>
#include <string>

#include "apps/server/api_error.h"

namespace agentrt::server {
namespace {

using Check = std::function<void(const std::string& name, const Json& value)>;

ApiError unsupported(const std::string& name, const std::string& why) {
  return bad_request("'" + name + "' is not supported: " + why, name, "unsupported_parameter");
}

// Read and checked by the endpoint's own parser (openai_request.cpp, response_format.cpp).
const Check kReadElsewhere = [](const std::string&, const Json&) {};

// Accepted only when it asks for nothing: null (or the empty value given).
Check only_empty(const std::string& why) {
  return [why](const std::string& name, const Json& v) {
    const bool empty = v.is_null() || (v.is_object() && v.empty()) || (v.is_array() && v.empty()) ||
                       (v.is_string() && v.get<std::string>().empty()) ||
                       (v.is_boolean() && !v.get<bool>()) || (v.is_number() && v == 0);
    if (!empty) throw unsupported(name, why);
  };
}

// A string that by OpenAI's definition changes nothing in the reply (an end-user id, a cache-routing hint).
const Check kString = [](const std::string& name, const Json& v) {
  if (!v.is_null() && !v.is_string()) {
    throw bad_request("'" + name + "' must be a string", name, "invalid_type");
  }
};

const Check kServiceTier = [](const std::string& name, const Json& v) {
  if (v.is_null()) return;
  if (!v.is_string()) throw bad_request("'" + name + "' must be a string", name, "invalid_type");
  const auto tier = v.get<std::string>();
  if (tier != "auto" && tier != "default") {
    throw unsupported(name,
                      "this server has one service tier (\"auto\" or \"default\"), not \"" + tier + "\"");
  }
};

const Check kPreservedTokens = [](const std::string& name, const Json& v) {
  if (v.is_null()) return;
  if (!v.is_array()) throw bad_request("'" + name + "' must be a list of strings", name, "invalid_type");
  for (const auto& t : v) {
    if (!t.is_string()) throw bad_request("'" + name + "' must be a list of strings", name, "invalid_type");
  }
};

const Check kModalities = [](const std::string& name, const Json& v) {
  if (v.is_null() || v == Json::array({"text"})) return;
  throw unsupported(name, "this model writes text only (\"modalities\": [\"text\"])");
};

const Check kBestOf = [](const std::string& name, const Json& v) {
  if (v.is_null() || v == 1) return;
  throw unsupported(name, "only best_of=1 (one completion) is generated");
};

const Check kStreamOptions = [](const std::string&, const Json& v) {
  if (!v.is_object()) return;  // its type is checked where include_usage is read
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string name = "stream_options." + it.key();
    if (it.key() == "include_usage") continue;
    if (it.key() == "include_obfuscation") {
      if (!it.value().is_null() && it.value() != false) {
        throw unsupported(name, "stream chunks carry no obfuscation padding");
      }
      continue;
    }
    throw bad_request("unknown parameter '" + name + "'", name, "unsupported_parameter");
  }
};

const std::map<std::string, Check>& common_fields() {
  static const std::map<std::string, Check> fields = {
      {"model", kReadElsewhere},
      {"stream", kReadElsewhere},
      {"stream_options", kStreamOptions},
      {"max_tokens", kReadElsewhere},
      {"max_completion_tokens", kReadElsewhere},
      {"temperature", kReadElsewhere},
      {"top_p", kReadElsewhere},
      {"top_k", kReadElsewhere},               // vLLM / llama-server extension
      {"min_p", kReadElsewhere},               // vLLM / llama-server extension
      {"repetition_penalty", kReadElsewhere},  // vLLM extension
      {"presence_penalty", kReadElsewhere},
      {"frequency_penalty", kReadElsewhere},
      {"seed", kReadElsewhere},
      {"stop", kReadElsewhere},
      {"n", kReadElsewhere},
      {"logprobs", kReadElsewhere},
      {"logit_bias", only_empty("token biases are not applied")},
      {"user", kString},
      {"safety_identifier", kString},
      // What remote backends (another agentrt among them) send so special tokens come back as text: ours
      // always do, so these are honoured as long as they do not ask otherwise.
      {"skip_special_tokens", only_empty("special tokens are always returned as text")},
      {"spaces_between_special_tokens", only_empty("no spaces are put around special tokens")},
      {"preserved_tokens", kPreservedTokens},
  };
  return fields;
}

const std::map<std::string, Check>& chat_fields() {
  static const std::map<std::string, Check> fields = [] {
    std::map<std::string, Check> f = common_fields();
    f.insert({
        {"messages", kReadElsewhere},
        {"tools", kReadElsewhere},
        {"tool_choice", kReadElsewhere},
        {"parallel_tool_calls", kReadElsewhere},
        {"response_format", kReadElsewhere},
        {"top_logprobs", only_empty("log probabilities are not returned")},
        {"prompt_cache_key", kString},
        {"service_tier", kServiceTier},
        {"store", only_empty("completions are not stored (\"store\": false)")},
        {"metadata", only_empty("completions are not stored, so there is nothing to tag")},
        {"modalities", kModalities},
        {"audio", only_empty("this model neither hears nor speaks")},
        {"prediction", only_empty("predicted outputs are not used")},
        {"web_search_options", only_empty("the model has no web search of its own (agent runs have tools)")},
        {"reasoning_effort", only_empty("this is not a reasoning model")},
        {"verbosity", only_empty("the length of answers is not tunable")},
        {"functions", only_empty("the deprecated functions API is not served; send 'tools'")},
        {"function_call", only_empty("the deprecated functions API is not served; send 'tool_choice'")},
    });
    return f;
  }();
  return fields;
}

const std::map<std::string, Check>& completion_fields() {
  static const std::map<std::string, Check> fields = [] {
    std::map<std::string, Check> f = common_fields();
    f.insert({
        {"prompt", kReadElsewhere},
        {"echo", kReadElsewhere},
        {"best_of", kBestOf},
        {"suffix", only_empty("text after the completion (insertion) is not supported")},
    });
    return f;
  }();
  return fields;
}

}  // namespace

void check_openai_fields(const Json& body, OpenAIEndpoint endpoint) {
  const auto& fields = endpoint == OpenAIEndpoint::Chat ? chat_fields() : completion_fields();
  for (auto it = body.begin(); it != body.end(); ++it) {
    const auto known = fields.find(it.key());
    if (known == fields.end()) {
      throw bad_request(
          "unknown parameter '" + it.key() + "' (docs/server.md lists the fields this server takes)",
          it.key(), "unsupported_parameter");
    }
    known->second(it.key(), it.value());
  }
}

}  // namespace agentrt::server
