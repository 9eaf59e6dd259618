// Shared by the sandbox suites: a fresh workspace folder per test and the worker built next to agentrt.
#pragma once

#include <stdlib.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sandbox/jail_support.h"
#include "sandbox/limits.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker_jail.h"

namespace agentrt::sandbox::testing {

// Deadlines stretch by this factor under AddressSanitizer, which makes the interpreter several times slower
// (every allocation is poisoned and quarantined); what the tests check stays the same.
inline constexpr int kSanitizerSlowdown = AGENTRT_ADDRESS_SANITIZER ? 4 : 1;

inline std::filesystem::path worker_path() {
  return std::filesystem::path(AGENTRT_BINARY_DIR) / "bin" / "agentrt-sandbox";
}

// A whole file's bytes ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of one "Name:\tvalue" line of /proc/<pid>/status ("" when there is none).
inline std::string status_field(pid_t pid, const std::string& name) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + ":", 0) == 0) {
      std::string v = line.substr(name.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

// A new empty folder under the system temp folder, removed when the object goes away.
class TempWorkspace {
 public:
  TempWorkspace() {
    std::string pattern = (std::filesystem::temp_directory_path() / "agentrt-sandbox-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempWorkspace() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempWorkspace(const TempWorkspace&) = delete;
  TempWorkspace& operator=(const TempWorkspace&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Small caps so the hostile tests finish quickly.
inline Limits test_limits() {
  Limits l;
  l.timeout = std::chrono::milliseconds(250) * kSanitizerSlowdown;
  l.memory_bytes = std::size_t{64} << 20;
  return l;
}

inline SessionOptions session_options(const std::filesystem::path& workspace, Limits limits = test_limits()) {
  SessionOptions o;
  o.workspace = workspace;
  o.worker = worker_path();
  o.limits = limits;
  return o;
}

// A Python session in `workspace`: the full jail where this machine allows it, else the basic jail (accepted
// here as --interpreter-unsafe would), so the cell semantics are tested either way.
inline SessionOptions python_options(const std::filesystem::path& workspace, Limits limits = Limits()) {
  SessionOptions o;
  o.workspace = workspace;
  o.worker = worker_path();
  o.limits = limits;
  o.language = Language::Python;
  o.allow_basic_jail = !probe_jail_support(o.worker).full();
  return o;
}

}  // namespace agentrt::sandbox::testing
