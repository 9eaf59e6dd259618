#include "tests/engine/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace agentrt::engine::testing {
namespace {

struct TempRoot {
  std::filesystem::path path;
  TempRoot() {
    path = std::filesystem::temp_directory_path() / ("agentrt-engine-tests-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

const std::filesystem::path& root() {
  static TempRoot temp;
  return temp.path;
}

}  // namespace

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = root() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path make_test_model(const std::string& name, const MakeModelOptions& options) {
  const auto dir = temp_dir(name);
  make_model(dir, options);
  return dir;
}

const std::filesystem::path& tiny_model() {
  static const std::filesystem::path dir = [] {
    MakeModelOptions options;
    options.config = preset_config("tiny");
    options.seed = 1;
    return make_test_model("tiny", options);
  }();
  return dir;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::pair<int, std::string> run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WEXITSTATUS(status), out};
}

}  // namespace agentrt::engine::testing
