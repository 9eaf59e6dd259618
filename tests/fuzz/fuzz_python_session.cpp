// libFuzzer target for the Python interpreter: any byte string, run as a cell of a jailed Python session (the
// real worker: the zygote's clone, the jail, IPython), must come back as a CellResult: never a crash or a
// hang of the host, a failed cell always says why, and the session (or its replacement after a reset) keeps
// answering. Inputs whose text starts with "#reset" reset the session first.
// fuzz-libs: agentrt_sandbox
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "sandbox/jail_support.h"
#include "sandbox/sandbox.h"

namespace {

namespace fs = std::filesystem;
using agentrt::sandbox::Session;

constexpr int kRunsPerCheck = 100;

fs::path workspace() {
  static const fs::path path = [] {
    std::string pattern = (fs::temp_directory_path() / "agentrt-fuzz-python-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) __builtin_trap();
    return fs::path(pattern);
  }();
  return path;
}

std::unique_ptr<Session> make_session() {
  agentrt::sandbox::SessionOptions o;
  o.workspace = workspace();
  o.language = agentrt::sandbox::Language::Python;
  o.limits.timeout = std::chrono::milliseconds(1000);
  o.limits.memory_bytes = std::size_t{128} << 20;
  o.limits.max_output_bytes = 64 << 10;
  // The basic jail where this machine cannot build the full one: the cells are what is fuzzed here.
  o.allow_basic_jail = !agentrt::sandbox::probe_jail_support().full();
  return std::make_unique<Session>(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Session> session = make_session();
  static int runs = 0;
  const std::string_view code(reinterpret_cast<const char*>(data), size);
  if (code.rfind("#reset", 0) == 0) session->reset();
  const auto result = session->run(code);
  if (!result.ok && result.error.empty()) __builtin_trap();
  if (++runs % kRunsPerCheck == 0) {
    // Whatever the cells did, the session still answers (a fresh worker after a reset is fine).
    const auto probe = session->run("6 * 7", std::chrono::seconds(10));
    if (!probe.ok || probe.value != "42") {
      const auto again = session->run("6 * 7", std::chrono::seconds(10));
      if (!again.ok || again.value != "42") __builtin_trap();
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(workspace(), ec)) fs::remove_all(e.path(), ec);
  }
  return 0;
}
