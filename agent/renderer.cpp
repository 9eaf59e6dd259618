#include "agent/renderer.h"

#include <stdexcept>

#include "agent/protocol.h"
#include "agent/py_json.h"
#include "prompts/prompts.h"

namespace agentrt::agent {
namespace {

std::string channel_token(std::string_view name) {
  if (name == "plugin") return std::string(text_of(Marker::Plugin));
  if (name == "interpreter") return std::string(text_of(Marker::Interpreter));
  return std::string(name);
}

void append_turn(std::string& out, std::string_view role, std::string_view name, std::string_view content) {
  out += text_of(Marker::ImStart);
  out += role;
  if (!name.empty()) {
    out += " name=";
    out += name;
  }
  out += "\n";
  out += content;
  out += text_of(Marker::ImEnd);
  out += "\n";
}

std::string tools_turn_content(const RenderOptions& options) {
  const Json tools = normalize_tool_descriptions(options.tools);
  const std::string json = py_dumps(tools, options.flavor == Flavor::InternLM2 ? 4 : -1);
  if (options.plugin_template.empty()) return json;
  std::string content = options.plugin_template;
  const auto pos = content.find("{tools}");
  if (pos == std::string::npos) return content + "\n" + json;
  content.replace(pos, 7, json);
  return content;
}

// The channel of the call a tool result answers, looked up by call id in the earlier assistant turns.
std::string channel_of_call(const std::vector<Message>& messages, size_t upto, const std::string& call_id) {
  for (size_t i = upto; i-- > 0;) {
    for (const auto& a : messages[i].actions) {
      if (!call_id.empty() && a.id == call_id) return std::string(to_string(a.channel));
    }
  }
  return "plugin";
}

}  // namespace

Flavor flavor_from_string(std::string_view text) {
  if (text == "internlm2") return Flavor::InternLM2;
  if (text == "lmdeploy") return Flavor::LMDeploy;
  throw std::invalid_argument("unknown prompt flavour '" + std::string(text) +
                              "' (expected internlm2 or lmdeploy)");
}

std::string_view to_string(Flavor flavor) {
  return flavor == Flavor::InternLM2 ? "internlm2" : "lmdeploy";
}

Json normalize_tool_descriptions(const Json& tools) {
  if (tools.is_null()) return Json::array();
  if (!tools.is_array()) throw std::invalid_argument("tools must be a JSON list of tool descriptions");
  Json out = Json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json& t = tools[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) throw std::invalid_argument(where + " must be an object");
    const Json* fn = &t;
    if (t.contains("function")) {
      if (!t["function"].is_object()) throw std::invalid_argument(where + ".function must be an object");
      if (t.contains("type") && t["type"] != "function") {
        throw std::invalid_argument(where + ".type must be \"function\"");
      }
      fn = &t["function"];
    }
    if (!fn->contains("name") || !(*fn)["name"].is_string() || (*fn)["name"].get<std::string>().empty()) {
      throw std::invalid_argument(where + " needs a non-empty string \"name\"");
    }
    if (fn->contains("parameters") && !(*fn)["parameters"].is_object() && !(*fn)["parameters"].is_array()) {
      throw std::invalid_argument(where +
                                  ".parameters must be a JSON schema object or a Lagent parameter list");
    }
    out.push_back(*fn);
  }
  return out;
}

std::string render_call_json(const Action& action) {
  return py_dumps(Json{{"name", action.name}, {"parameters", action.arguments}});
}

std::string render_action(const Action& action, std::string_view default_fence) {
  std::string out(text_of(Marker::ActionStart));
  if (action.channel == Channel::Plugin) {
    out += text_of(Marker::Plugin);
    // What the model generated is kept as it was, so the history re-renders to the same tokens.
    out += action.raw.empty() ? "\n" + render_call_json(action) : action.raw;
    return out;
  }
  out += text_of(Marker::Interpreter);
  if (!action.raw.empty()) return out + action.raw;
  out += "\n```";
  out += action.language.empty() ? default_fence : std::string_view(action.language);
  out += "\n" + action.code;
  if (action.code.empty() || action.code.back() != '\n') out += "\n";
  out += "```";
  return out;
}

std::string render_prompt(const std::vector<Message>& messages, const RenderOptions& options) {
  const bool lmdeploy = options.flavor == Flavor::LMDeploy;
  std::string out;

  // Declarations go after the leading system turns (lmdeploy: after the first message when it is a system
  // one).
  size_t insert_at = 0;
  if (lmdeploy) {
    insert_at = !messages.empty() && messages[0].role == Role::System ? 1 : 0;
  } else {
    while (insert_at < messages.size() && messages[insert_at].role == Role::System) ++insert_at;
  }
  if (lmdeploy && (messages.empty() || messages[0].role != Role::System)) {
    const std::string meta = options.meta_instruction.has_value()
                                 ? *options.meta_instruction
                                 : std::string(prompts::get("lmdeploy/meta_instruction.txt"));
    if (!meta.empty()) append_turn(out, "system", "", meta);
  }

  auto declarations = [&] {
    if (!options.interpreter_prompt.empty()) {
      append_turn(out, "system", text_of(Marker::Interpreter), options.interpreter_prompt);
    }
    if (!options.tools.empty())
      append_turn(out, "system", text_of(Marker::Plugin), tools_turn_content(options));
  };

  for (size_t i = 0; i <= messages.size(); ++i) {
    if (i == insert_at) declarations();
    if (i == messages.size()) break;
    const Message& m = messages[i];
    std::string name;
    if (m.name == "plugin" || m.name == "interpreter") {
      name = channel_token(m.name);
    } else if (!lmdeploy) {
      name = m.name;  // lmdeploy drops names it does not know
    }
    switch (m.role) {
      case Role::System:
      case Role::User:
        append_turn(out, to_string(m.role), name, m.content);
        break;
      case Role::Assistant: {
        std::string content = m.content;
        for (const auto& a : m.actions) {
          content += render_action(a, options.interpreter_fence);
          content += text_of(Marker::ActionEnd);
          if (!lmdeploy) content += "\n";
        }
        append_turn(out, "assistant", name, content);
        break;
      }
      case Role::Environment:
        if (name.empty() && !lmdeploy) name = channel_token(channel_of_call(messages, i, m.tool_call_id));
        append_turn(out, "environment", name, m.content);
        break;
    }
  }
  if (options.add_generation_prompt) {
    out += text_of(Marker::ImStart);
    out += "assistant\n";
  }
  return out;
}

}  // namespace agentrt::agent
