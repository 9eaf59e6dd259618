// Shared fixtures of the engine tests: tiny checkpoints made once per test process in a temporary folder.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/model_maker.h"

namespace agentrt::engine::testing {

// A fresh temporary directory, removed at process exit.
std::filesystem::path temp_dir(const std::string& name);
// The "tiny" preset with seed 1, made once.
const std::filesystem::path& tiny_model();
// Makes a checkpoint under the temp folder from options.
std::filesystem::path make_test_model(const std::string& name, const MakeModelOptions& options);
std::string read_file(const std::filesystem::path& path);
// Runs a shell command; returns its exit status and its stdout and stderr together.
std::pair<int, std::string> run_command(const std::string& command);
void write_file(const std::filesystem::path& path, const std::string& bytes);

}  // namespace agentrt::engine::testing
