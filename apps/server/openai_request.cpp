#include "apps/server/openai_request.h"

#include <cmath>
#include <limits>

#include "agent/message_io.h"
#include "agent/protocol.h"
#include "agent/py_json.h"
#include "apps/server/api_error.h"
#include "apps/server/openai_fields.h"

namespace agentrt::server {
namespace {

constexpr int kMaxTokensLimit = 1 << 20;
constexpr size_t kMaxStopStrings = 4;

// The JSON type name a client would understand in an error message.
std::string type_name(const Json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  return v.type_name();
}

ApiError wrong_type(const std::string& field, const std::string& expected, const Json& got) {
  return bad_request("'" + field + "' must be " + expected + ", got " + type_name(got), field,
                     "invalid_type");
}

// A number field in [lo, hi]; absent or null: `fallback`.
double number_field(const Json& body, const std::string& field, double lo, double hi, double fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  const Json& v = body[field];
  if (!v.is_number()) throw wrong_type(field, "a number", v);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    throw bad_request("'" + field + "' must be between " + agent::py_dumps(Json(lo)) + " and " +
                          agent::py_dumps(Json(hi)) + ", got " + agent::py_dumps(v),
                      field, "invalid_value");
  }
  return d;
}

long long integer_field(const Json& body, const std::string& field, long long lo, long long hi,
                        long long fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  const Json& v = body[field];
  if (!v.is_number_integer()) throw wrong_type(field, "an integer", v);
  // Unsigned JSON integers beyond the signed range are out of range too.
  if (v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi)) {
    throw bad_request("'" + field + "' must be at most " + std::to_string(hi), field, "invalid_value");
  }
  const long long n = v.get<long long>();
  if (n < lo || n > hi) {
    throw bad_request("'" + field + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                          ", got " + std::to_string(n),
                      field, "invalid_value");
  }
  return n;
}

bool bool_field(const Json& body, const std::string& field, bool fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  if (!body[field].is_boolean()) throw wrong_type(field, "a boolean", body[field]);
  return body[field].get<bool>();
}

std::vector<std::string> stop_field(const Json& body) {
  std::vector<std::string> stops;
  if (!body.contains("stop") || body["stop"].is_null()) return stops;
  const Json& v = body["stop"];
  if (v.is_string()) {
    stops.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.size() > kMaxStopStrings) {
      throw bad_request("'stop' takes at most " + std::to_string(kMaxStopStrings) + " strings", "stop",
                        "invalid_value");
    }
    for (const auto& s : v) {
      if (!s.is_string()) throw wrong_type("stop", "a string or a list of strings", v);
      stops.push_back(s.get<std::string>());
    }
  } else {
    throw wrong_type("stop", "a string or a list of strings", v);
  }
  for (const auto& s : stops) {
    if (s.empty()) throw bad_request("'stop' strings must not be empty", "stop", "invalid_value");
  }
  return stops;
}

Json normalized_tools(const Json& body) {
  if (!body.contains("tools") || body["tools"].is_null()) return Json::array();
  const Json& tools = body["tools"];
  if (!tools.is_array()) throw wrong_type("tools", "a list of tools", tools);
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json& t = tools[i];
    if (!t.is_object()) throw wrong_type("tools[" + std::to_string(i) + "]", "an object", t);
    if (t.contains("type") && t["type"] != "function") {
      throw bad_request("tools[" + std::to_string(i) + "].type must be \"function\"", "tools",
                        "invalid_value");
    }
  }
  try {
    Json fns = agent::normalize_tool_descriptions(tools);
    for (const auto& f : fns) {
      if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty()) {
        throw std::invalid_argument("every tool needs a function name");
      }
    }
    return fns;
  } catch (const std::invalid_argument& e) {
    throw bad_request(std::string("invalid 'tools': ") + e.what(), "tools", "invalid_value");
  }
}

bool has_tool(const Json& tools, const std::string& name) {
  for (const auto& t : tools) {
    if (t.value("name", "") == name) return true;
  }
  return false;
}

}  // namespace

Json parse_body(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    // Say where the JSON breaks: the parser's message has the byte position.
    try {
      const Json again = Json::parse(body);
      (void)again;
    } catch (const Json::exception& e) {  // a parse error, or a number out of range (1e999)
      throw bad_request(std::string("the request body is not valid JSON: ") + e.what(), "", "invalid_json");
    }
    throw bad_request("the request body is not valid JSON", "", "invalid_json");
  }
  if (!j.is_object()) throw bad_request("the request body must be a JSON object", "", "invalid_json");
  return j;
}

SamplingRequest parse_sampling(const Json& body, const std::string& served_model, int default_max_tokens) {
  SamplingRequest r;
  if (!body.contains("model"))
    throw bad_request("'model' is required", "model", "missing_required_parameter");
  if (!body["model"].is_string()) throw wrong_type("model", "a string", body["model"]);
  r.model = body["model"].get<std::string>();
  if (r.model != served_model) {
    throw ApiError(404,
                   "The model '" + r.model + "' does not exist; this server serves '" + served_model + "'",
                   "invalid_request_error", "model", "model_not_found");
  }
  r.stream = bool_field(body, "stream", false);
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const Json& so = body["stream_options"];
    if (!so.is_object()) throw wrong_type("stream_options", "an object", so);
    r.include_usage = bool_field(so, "include_usage", false);
  }
  auto& p = r.params;
  const char* max_field = body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  p.max_tokens = static_cast<int>(integer_field(body, max_field, 1, kMaxTokensLimit, default_max_tokens));
  p.temperature = static_cast<float>(number_field(body, "temperature", 0, 2, 0));
  p.top_p = static_cast<float>(number_field(body, "top_p", 0, 1, 1));
  if (p.top_p <= 0) throw bad_request("'top_p' must be greater than 0", "top_p", "invalid_value");
  p.top_k = static_cast<int>(integer_field(body, "top_k", 0, std::numeric_limits<int>::max(), 0));
  p.min_p = static_cast<float>(number_field(body, "min_p", 0, 1, 0));
  p.repetition_penalty = static_cast<float>(number_field(body, "repetition_penalty", 0.01, 10, 1));
  p.presence_penalty = static_cast<float>(number_field(body, "presence_penalty", -2, 2, 0));
  if (number_field(body, "frequency_penalty", -2, 2, 0) != 0) {
    throw bad_request("'frequency_penalty' is not supported (use presence_penalty or repetition_penalty)",
                      "frequency_penalty", "unsupported_parameter");
  }
  p.seed = static_cast<uint64_t>(integer_field(body, "seed", std::numeric_limits<long long>::min(),
                                               std::numeric_limits<long long>::max(), 0));
  if (integer_field(body, "n", 1, 128, 1) != 1) {
    throw bad_request("only n=1 is supported", "n", "unsupported_parameter");
  }
  if (bool_field(body, "logprobs", false) || (body.contains("logprobs") && body["logprobs"].is_number())) {
    throw bad_request("'logprobs' is not supported", "logprobs", "unsupported_parameter");
  }
  p.stop = stop_field(body);
  return r;
}

CompletionRequest parse_completion_request(const Json& body, const std::string& served_model) {
  check_openai_fields(body, OpenAIEndpoint::Completions);
  CompletionRequest r;
  // OpenAI's default for /v1/completions.
  r.sampling = parse_sampling(body, served_model, 16);
  if (!body.contains("prompt"))
    throw bad_request("'prompt' is required", "prompt", "missing_required_parameter");
  const Json& prompt = body["prompt"];
  if (prompt.is_string()) {
    r.prompt = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    r.prompt = prompt[0].get<std::string>();
  } else if (prompt.is_array()) {
    throw bad_request("'prompt' must be one string (lists of prompts and token ids are not supported)",
                      "prompt", "unsupported_parameter");
  } else {
    throw wrong_type("prompt", "a string", prompt);
  }
  if (bool_field(body, "echo", false))
    throw bad_request("'echo' is not supported", "echo", "unsupported_parameter");
  return r;
}

ChatRequest parse_chat_request(const Json& body, const std::string& served_model) {
  check_openai_fields(body, OpenAIEndpoint::Chat);
  ChatRequest r;
  r.sampling = parse_sampling(body, served_model, 1024);
  if (!body.contains("messages")) {
    throw bad_request("'messages' is required", "messages", "missing_required_parameter");
  }
  const Json& messages = body["messages"];
  if (!messages.is_array()) throw wrong_type("messages", "a list of messages", messages);
  if (messages.empty()) throw bad_request("'messages' must not be empty", "messages", "invalid_value");
  try {
    r.messages = agent::messages_from_json(messages);
  } catch (const std::invalid_argument& e) {
    throw bad_request(std::string("invalid 'messages': ") + e.what(), "messages", "invalid_value");
  }
  r.tools = normalized_tools(body);
  for (const auto& t : body.value("tools", Json::array())) {
    const Json fn = t.is_object() ? t.value("function", t) : Json();
    if (fn.is_object() && fn.contains("strict") && !fn["strict"].is_null()) {
      if (!fn["strict"].is_boolean()) throw wrong_type("tools[].function.strict", "a boolean", fn["strict"]);
      r.strict_tools = r.strict_tools || fn["strict"].get<bool>();
    }
  }
  r.parallel_tool_calls = bool_field(body, "parallel_tool_calls", true);
  r.response_format = parse_response_format(body);

  if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
    const Json& tc = body["tool_choice"];
    if (tc.is_string()) {
      const auto s = tc.get<std::string>();
      if (s == "auto") {
        r.tool_choice = ToolChoice::Auto;
      } else if (s == "none") {
        r.tool_choice = ToolChoice::None;
      } else if (s == "required") {
        r.tool_choice = ToolChoice::Required;
      } else {
        throw bad_request(
            "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", "
            "\"function\": {\"name\": ...}}, got \"" +
                s + "\"",
            "tool_choice", "invalid_value");
      }
    } else if (tc.is_object()) {
      const Json fn = tc.value("function", Json());
      if (tc.value("type", "") != "function" || !fn.is_object() || !fn.contains("name") ||
          !fn["name"].is_string()) {
        throw bad_request(
            "a named 'tool_choice' must be {\"type\": \"function\", \"function\": {\"name\": ...}}",
            "tool_choice", "invalid_value");
      }
      r.tool_choice = ToolChoice::Named;
      r.forced_tool = fn["name"].get<std::string>();
      if (!has_tool(r.tools, r.forced_tool)) {
        throw bad_request("'tool_choice' names the function '" + r.forced_tool + "', which is not in 'tools'",
                          "tool_choice", "invalid_value");
      }
    } else {
      throw wrong_type("tool_choice", "a string or an object", tc);
    }
  }
  if (r.tools.empty() && (r.tool_choice == ToolChoice::Required || r.tool_choice == ToolChoice::Named)) {
    throw bad_request("'tool_choice' requires a tool call but 'tools' is empty", "tool_choice",
                      "invalid_value");
  }
  return r;
}

ChatPrompt build_chat_prompt(const ChatRequest& request, agent::Flavor flavor) {
  agent::RenderOptions ro;
  ro.flavor = flavor;
  if (request.tool_choice != ToolChoice::None) ro.tools = request.tools;
  ChatPrompt out;
  out.prompt = agent::render_prompt(request.messages, ro);
  if (request.tool_choice == ToolChoice::Required || request.tool_choice == ToolChoice::Named) {
    out.prefill = std::string(agent::text_of(agent::Marker::ActionStart)) +
                  std::string(agent::text_of(agent::Marker::Plugin)) + "\n";
    if (request.tool_choice == ToolChoice::Named) {
      // The call's opening as the model writes it (render_call_json's key order and separators).
      out.prefill += "{\"name\": " + agent::py_dumps(Json(request.forced_tool)) + ", \"parameters\": ";
    }
  }
  out.prompt += out.prefill;
  return out;
}

agent::GenerationParams chat_generation_params(const ChatRequest& request, const agent::MarkerIds& marker_ids,
                                               bool constrain_tools, agent::SchemaSupport support) {
  agent::GenerationParams p = request.sampling.params;
  const bool calls_possible = request.tool_choice != ToolChoice::None && !request.tools.empty();
  if (request.strict_tools && calls_possible && support != agent::SchemaSupport::JsonOrCall) {
    throw bad_request(
        "'strict' tools need a model backend that samples itself (the local engine) to hold calls to their "
        "schemas; this server's backend cannot",
        "tools", "unsupported_parameter");
  }
  if ((constrain_tools || request.strict_tools) && calls_possible) {
    p.constrain_tools = Json::array();
    for (const auto& t : request.tools) {
      if (request.tool_choice != ToolChoice::Named || t.value("name", "") == request.forced_tool) {
        p.constrain_tools.push_back(t);
      }
    }
  }
  // A forced call has no content for a response_format to shape.
  const bool forced = request.tool_choice == ToolChoice::Required || request.tool_choice == ToolChoice::Named;
  if (!request.response_format.schema.is_null() && !forced) {
    p.response_schema = request.response_format.schema;
    p.response_allows_calls = calls_possible;
    const bool can = p.response_allows_calls ? support == agent::SchemaSupport::JsonOrCall
                                             : support != agent::SchemaSupport::None;
    if (!can) {
      throw bad_request(std::string("'response_format' ") + request.response_format.type +
                            " cannot be honoured by this server's model backend" +
                            (p.response_allows_calls && support != agent::SchemaSupport::None
                                 ? " together with tools (send tool_choice \"none\", or no tools)"
                                 : " (the local engine and remote vLLM or llama-server can)"),
                        "response_format", "unsupported_parameter");
    }
  }
  if (!request.parallel_tool_calls && calls_possible) {
    // The reply ends with its first call.
    for (const auto& [id, marker] : marker_ids) {
      if (marker == agent::Marker::ActionEnd) p.stop_ids.push_back(id);
    }
    for (const auto spelled : agent::spellings_of(agent::Marker::ActionEnd)) p.stop.emplace_back(spelled);
  }
  agent::add_end_of_turn_stops(p.stop, p.stop_ids, marker_ids);
  return p;
}

}  // namespace agentrt::server
