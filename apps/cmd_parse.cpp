// `agentrt parse`: model output on stdin → JSON of its text and its tool calls with their parse status.
#include <iostream>

#include "agent/action_parser.h"
#include "apps/app_common.h"
#include "apps/command.h"

namespace agentrt::apps {
namespace {

const CommandRegistrar reg(30, [](CLI::App& app) {
  auto input = std::make_shared<std::string>("-");
  auto* cmd = app.add_subcommand("parse", "Parse model output (stdin) into text and tool calls, as JSON");
  cmd->add_option("--input", *input, "Read from FILE instead of stdin");
  cmd->callback([input] {
    const auto reply = agent::ActionParser::parse(read_input(*input));
    Json actions = Json::array();
    for (const auto& a : reply.actions) {
      Json j{{"channel", agent::to_string(a.channel)}, {"name", a.name}};
      if (a.channel == agent::Channel::Interpreter) {
        j["language"] = a.language;
        j["code"] = a.code;
      } else {
        j["arguments"] = a.arguments;
      }
      j["status"] = a.valid ? "valid" : "invalid";
      if (!a.valid) j["error"] = a.error;
      j["closed"] = a.closed;
      j["raw"] = a.raw;
      actions.push_back(j);
    }
    Json out{{"text", reply.text}, {"thought", reply.thought}, {"actions", actions},
             {"ended_by_im_end", reply.ended_by_im_end}};
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  });
});

}  // namespace
}  // namespace agentrt::apps
