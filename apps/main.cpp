#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "apps/command.h"

int main(int argc, char** argv) {
  CLI::App app{"agentrt: an agent runtime for the InternLM2 chat models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "agentrt 0.1.0");
  for (const auto& setup : agentrt::apps::registered_commands()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const agentrt::apps::CommandExit& e) {
    return e.status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agentrt: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
