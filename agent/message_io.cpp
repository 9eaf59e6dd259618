#include "agent/message_io.h"

#include <stdexcept>

namespace agentrt::agent {
namespace {

std::invalid_argument bad(size_t index, const std::string& what) {
  return std::invalid_argument("messages[" + std::to_string(index) + "]: " + what);
}

std::string content_text(const Json& content, size_t index) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {
    std::string text;
    for (const auto& part : content) {
      if (part.is_string()) {
        text += part.get<std::string>();
      } else if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
                 part["text"].is_string()) {
        text += part["text"].get<std::string>();
      } else {
        throw bad(index, "content parts must be {\"type\": \"text\", \"text\": \"...\"}");
      }
    }
    return text;
  }
  throw bad(index, "content must be a string, null or a list of text parts");
}

Action action_from_tool_call(const Json& call, size_t index) {
  if (!call.is_object()) throw bad(index, "each tool_calls entry must be an object");
  const Json fn = call.contains("function") ? call["function"] : call;
  if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string()) {
    throw bad(index, "a tool call needs function.name");
  }
  Action a;
  a.channel = Channel::Plugin;
  a.name = fn["name"].get<std::string>();
  a.id = call.value("id", "");
  Json args = fn.contains("arguments") ? fn["arguments"] : fn.value("parameters", Json::object());
  if (args.is_string()) {
    const std::string text = args.get<std::string>();
    args = text.empty() ? Json::object() : Json::parse(text, nullptr, false);
    if (args.is_discarded()) throw bad(index, "tool call '" + a.name + "' has arguments that are not valid JSON");
  }
  if (!args.is_object()) throw bad(index, "tool call '" + a.name + "' arguments must be a JSON object");
  a.arguments = args;
  return a;
}

Action action_from_own_json(const Json& j, size_t index) {
  if (!j.is_object()) throw bad(index, "each actions entry must be an object");
  Action a;
  const std::string channel = j.value("channel", "plugin");
  if (channel == "interpreter") {
    a.channel = Channel::Interpreter;
    a.name = std::string(kInterpreterToolName);
    a.code = j.value("code", "");
    a.language = j.value("language", "");
  } else if (channel == "plugin") {
    a.name = j.value("name", "");
    a.arguments = j.value("arguments", Json::object());
  } else {
    throw bad(index, "unknown action channel '" + channel + "'");
  }
  a.raw = j.value("raw", "");
  a.id = j.value("id", "");
  a.valid = j.value("valid", true);
  a.error = j.value("error", "");
  return a;
}

}  // namespace

std::vector<Message> messages_from_json(const Json& messages) {
  if (!messages.is_array()) throw std::invalid_argument("messages must be a JSON list");
  std::vector<Message> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& j = messages[i];
    if (!j.is_object()) throw bad(i, "must be an object with \"role\" and \"content\"");
    if (!j.contains("role") || !j["role"].is_string()) throw bad(i, "needs a string \"role\"");
    Message m;
    try {
      m.role = role_from_string(j["role"].get<std::string>());
    } catch (const std::invalid_argument& e) {
      throw bad(i, e.what());
    }
    m.content = content_text(j.value("content", Json()), i);
    if (j.contains("name")) {
      if (!j["name"].is_string()) throw bad(i, "\"name\" must be a string");
      m.name = j["name"].get<std::string>();
    }
    if (j.contains("tool_calls") && !j["tool_calls"].is_null()) {
      if (m.role != Role::Assistant) throw bad(i, "only assistant messages carry tool_calls");
      if (!j["tool_calls"].is_array()) throw bad(i, "tool_calls must be a list");
      for (const auto& call : j["tool_calls"]) m.actions.push_back(action_from_tool_call(call, i));
    }
    if (j.contains("actions")) {
      if (m.role != Role::Assistant || !j["actions"].is_array()) throw bad(i, "actions must be a list on an assistant");
      for (const auto& a : j["actions"]) m.actions.push_back(action_from_own_json(a, i));
    }
    if (j.contains("tool_call_id")) {
      if (!j["tool_call_id"].is_string()) throw bad(i, "tool_call_id must be a string");
      m.tool_call_id = j["tool_call_id"].get<std::string>();
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace agentrt::agent
