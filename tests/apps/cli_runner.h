// Runs the agentrt binary as a user would and captures what it prints and its exit status.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace agentrt::testing {

struct CliResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

inline std::string agentrt_binary() {
  return std::string(AGENTRT_BINARY_DIR) + "/bin/agentrt";
}

// Runs `cmd` through the shell; what it prints on stdout (add 2>&1 for stderr) and its exit status.
inline CliResult run_shell(const std::string& cmd) {
  CliResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

// `args` is appended to the binary's path as shell words; `stdin_file` (if any) is fed as standard input.
inline CliResult run_cli(const std::string& args, const std::string& stdin_file = "") {
  std::string cmd = agentrt_binary() + " " + args + " 2>&1";
  if (!stdin_file.empty()) cmd += " < '" + stdin_file + "'";
  return run_shell(cmd);
}

// A file in a fresh temporary folder holding `content`. The folder is this process's: emptied first (a folder
// of an earlier process with the same pid may be there) and removed at exit.
inline std::string temp_file(const std::string& name, const std::string& content) {
  struct Folder {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("agentrt-cli-" + std::to_string(::getpid()));
    Folder() {
      std::filesystem::remove_all(path);
      std::filesystem::create_directories(path);
    }
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Folder folder;
  const auto path = folder.path / name;
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

}  // namespace agentrt::testing
