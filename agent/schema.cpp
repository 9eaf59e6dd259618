#include "agent/schema.h"

#include <stdexcept>

namespace agentrt::agent {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::System: return "system";
    case Role::User: return "user";
    case Role::Assistant: return "assistant";
    case Role::Environment: return "environment";
  }
  return "user";
}

Role role_from_string(std::string_view text) {
  if (text == "system") return Role::System;
  if (text == "user") return Role::User;
  if (text == "assistant") return Role::Assistant;
  if (text == "environment" || text == "tool") return Role::Environment;
  throw std::invalid_argument("unknown role '" + std::string(text) +
                              "' (expected system, user, assistant, environment or tool)");
}

std::string_view to_string(Channel channel) {
  return channel == Channel::Plugin ? "plugin" : "interpreter";
}

Json Action::tool_arguments() const {
  if (channel == Channel::Interpreter) return Json{{"code", code}, {"language", language}};
  return arguments;
}

long long ToolContext::remaining_ms() const {
  if (deadline == std::chrono::steady_clock::time_point::max()) return 1LL << 40;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? left.count() : 0;
}

ToolResult ToolResult::success(std::string text, Json data) {
  ToolResult r;
  r.ok = true;
  r.text = std::move(text);
  r.data = std::move(data);
  return r;
}

ToolResult ToolResult::failure(std::string text, Json data) {
  ToolResult r;
  r.ok = false;
  r.text = std::move(text);
  r.data = std::move(data);
  return r;
}

Json to_json(const Action& action) {
  Json j{{"channel", to_string(action.channel)}, {"name", action.name}};
  if (action.channel == Channel::Interpreter) {
    j["code"] = action.code;
    j["language"] = action.language;
  } else {
    j["arguments"] = action.arguments;
  }
  j["valid"] = action.valid;
  if (!action.valid) j["error"] = action.error;
  if (!action.closed) j["closed"] = false;
  if (!action.id.empty()) j["id"] = action.id;
  j["raw"] = action.raw;
  return j;
}

Json to_json(const Message& message) {
  Json j{{"role", to_string(message.role)}};
  if (!message.name.empty()) j["name"] = message.name;
  j["content"] = message.content;
  if (!message.actions.empty()) {
    Json actions = Json::array();
    for (const auto& a : message.actions) actions.push_back(to_json(a));
    j["actions"] = actions;
  }
  if (!message.tool_call_id.empty()) j["tool_call_id"] = message.tool_call_id;
  return j;
}

Json to_json(const ToolResult& result) {
  Json j{{"ok", result.ok}, {"text", result.text}};
  if (!result.data.is_null()) j["data"] = result.data;
  if (!result.files.empty()) {
    Json files = Json::array();
    for (const auto& f : result.files) files.push_back({{"path", f.path}, {"mime", f.mime}, {"summary", f.summary}});
    j["files"] = files;
  }
  return j;
}

}  // namespace agentrt::agent
