// `agentrt render`: the exact prompt bytes a conversation renders to, ending with the generation prompt.
#include <cstdio>

#include "agent/message_io.h"
#include "agent/renderer.h"
#include "apps/app_common.h"
#include "apps/command.h"

namespace agentrt::apps {
namespace {

struct RenderFlags {
  std::string messages;
  std::string tools;
  std::string flavor = "internlm2";
  std::string plugin_template;
  bool no_generation_prompt = false;
  bool interpreter = false;
  std::string lang = "en";
};

const CommandRegistrar reg(20, [](CLI::App& app) {
  auto f = std::make_shared<RenderFlags>();
  auto* cmd = app.add_subcommand("render", "Print the InternLM2 prompt of a conversation, byte for byte");
  cmd->add_option("--messages", f->messages,
                  "JSON list of messages (OpenAI style or role/name/content); - for stdin")
      ->required();
  cmd->add_option("--tools", f->tools, "JSON list of tool descriptions (OpenAI or Lagent shape)");
  cmd->add_option("--flavor", f->flavor, "internlm2 or lmdeploy")
      ->capture_default_str()
      ->check(CLI::IsMember({"internlm2", "lmdeploy"}));
  cmd->add_option("--plugin-template", f->plugin_template,
                  "Text of the tools turn with {tools} for the JSON (default: the bare JSON list)");
  cmd->add_flag("--interpreter", f->interpreter,
                "Declare the code interpreter with our interpreter system prompt");
  cmd->add_option("--lang", f->lang, "Language of the interpreter prompt: en or zh")
      ->check(CLI::IsMember({"en", "zh"}));
  cmd->add_flag("--no-generation-prompt", f->no_generation_prompt,
                "Do not end with <|im_start|>assistant\\n");
  cmd->callback([f] {
    agent::RenderOptions opts;
    opts.flavor = agent::flavor_from_string(f->flavor);
    opts.add_generation_prompt = !f->no_generation_prompt;
    if (!f->tools.empty()) opts.tools = read_json_file(f->tools);
    opts.plugin_template = f->plugin_template;
    if (f->interpreter) {
      const auto channel = tools::make_tool("interpreter", {})->channel_prompt(f->lang);
      if (channel) opts.interpreter_prompt = channel->system_prompt;
    }
    const auto messages = agent::messages_from_json(read_json_file(f->messages));
    const std::string prompt = agent::render_prompt(messages, opts);
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  });
});

}  // namespace
}  // namespace agentrt::apps
