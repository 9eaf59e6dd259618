// `agentrt sandbox run FILE.lua [--timeout-ms N] [--memory-mb N] [--workspace DIR]`: runs one Lua file as a
// cell of a fresh sandbox session and prints the result as JSON. Exit status 0 whenever the sandbox ran the
// code, also when the code failed (the JSON says so); 1 when it could not (no such file, no worker).
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/command.h"
#include "sandbox/sandbox.h"

namespace agentrt::apps {
namespace {

struct SandboxRunFlags {
  std::string file;
  long long timeout_ms = 10000;
  long long memory_mb = 256;
  std::string workspace;
  std::string worker;
};

const CommandRegistrar reg(45, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("sandbox", "The Lua 5.4 code-interpreter sandbox");
  cmd->require_subcommand(1);
  auto f = std::make_shared<SandboxRunFlags>();
  auto* run =
      cmd->add_subcommand("run", "Run a Lua file in a fresh sandbox session and print the result as JSON");
  run->add_option("file", f->file, "The Lua 5.4 source file")->required();
  run->add_option("--timeout-ms", f->timeout_ms, "Wall-clock limit of the run (default 10000)")
      ->check(CLI::Range(1LL, 3'600'000LL));
  run->add_option("--memory-mb", f->memory_mb, "Memory cap of the session (default 256)")
      ->check(CLI::Range(1LL, 65536LL));
  run->add_option("--workspace", f->workspace,
                  "Folder the code's files live in (default: the current folder)");
  run->add_option("--worker", f->worker, "Path of agentrt-sandbox (default: next to agentrt)");
  run->callback([f] {
    std::ifstream in(f->file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + f->file);
    std::stringstream code;
    code << in.rdbuf();
    sandbox::SessionOptions options;
    options.workspace =
        f->workspace.empty() ? std::filesystem::current_path() : std::filesystem::path(f->workspace);
    options.worker = f->worker;
    options.limits.timeout = std::chrono::milliseconds(f->timeout_ms);
    options.limits.memory_bytes = static_cast<std::size_t>(f->memory_mb) << 20;
    sandbox::Session session(options);
    const sandbox::CellResult result = session.run(code.str());
    nlohmann::json out = result.to_json();
    out["file"] = f->file;
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
});

}  // namespace
}  // namespace agentrt::apps
