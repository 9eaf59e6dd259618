// Renders a conversation into InternLM2 prompt text (../shared/spec/internlm2-protocol.md §2–§5), in one of
// two flavours:
//   internlm2 (default): chat_format.md + Lagent: tool list as json.dumps(indent=4), calls in history
//   followed by
//                        "<|action_end|>\n<|im_end|>", tool results as "environment name=<|plugin|>".
//   lmdeploy:            lmdeploy's internlm2 template: compact tool JSON, "<|action_end|><|im_end|>", OpenAI
//   tool
//                        results as a bare "environment" turn, a meta instruction when no system turn leads.
// The output never contains <s>: backends that tokenize add BOS themselves.
#pragma once

#include <string>
#include <vector>

#include "agent/schema.h"

namespace agentrt::agent {

enum class Flavor { InternLM2, LMDeploy };
Flavor flavor_from_string(std::string_view text);  // "internlm2" | "lmdeploy"; throws std::invalid_argument
std::string_view to_string(Flavor flavor);

struct RenderOptions {
  Flavor flavor = Flavor::InternLM2;
  bool add_generation_prompt = true;  // end with "<|im_start|>assistant\n"
  // Plugin tools to declare (any accepted shape, see normalize_tool_descriptions). Empty: no tools turn.
  Json tools = Json::array();
  // Text of the plugin system turn; "{tools}" is replaced by the tool JSON. Empty: the bare JSON list
  // (../shared/spec/internlm2-protocol.md §3).
  std::string plugin_template;
  // Content of a "system name=<|interpreter|>" turn declaring the code interpreter. Empty: none.
  std::string interpreter_prompt;
  // Fence label of an interpreter call rendered from its code when the call names none (the interpreter
  // tool's ChannelPrompt::fence_language).
  std::string interpreter_fence;
  // lmdeploy flavour: the system text used when the conversation does not start with a system turn.
  // Unset: prompts/lmdeploy/meta_instruction.txt.
  std::optional<std::string> meta_instruction;
};

// Accepts a list of tool descriptions in any of the shapes in the models' training data and in APIs:
// OpenAI wrappers {"type":"function","function":{...}}, OpenAI function objects {"name","description",
// "parameters":{"type":"object",...}}, and Lagent's {"name","description","parameters":[{"name","type",...}],
// "required":[...]}. Returns the function objects (Lagent ones as given). Throws std::invalid_argument naming
// the offending entry.
Json normalize_tool_descriptions(const Json& tools);

// The JSON text of one call as the model writes it: {"name": ..., "parameters": {...}}.
std::string render_call_json(const Action& action);

// The text of an action block without the closing tags: "<|action_start|><|plugin|>\n{...}". An interpreter
// call kept as the model wrote it is rendered as written; one built from code gets a fence labelled with its
// language, else `default_fence`.
std::string render_action(const Action& action, std::string_view default_fence = "");

std::string render_prompt(const std::vector<Message>& messages, const RenderOptions& options);

}  // namespace agentrt::agent
