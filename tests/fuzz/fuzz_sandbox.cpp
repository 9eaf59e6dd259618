// libFuzzer target for the sandbox entry: any byte string, run as a cell of the in-process interpreter (the
// worker's code path without its process wrapper), must come back as a CellResult: never a crash, a C++
// exception, a leak or memory growth past the cap. Inputs whose text starts with "--reset" reset the state
// first.
// fuzz-libs: agentrt_sandbox
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "sandbox/interpreter.h"

namespace {

namespace fs = std::filesystem;
using agentrt::sandbox::Interpreter;
using agentrt::sandbox::Limits;

constexpr int kRunsPerInterpreter = 500;

Limits fuzz_limits() {
  Limits l;
  l.timeout = std::chrono::milliseconds(200);
  l.memory_bytes = std::size_t{32} << 20;
  l.max_instructions = 20'000'000;
  l.max_string_bytes = std::size_t{1} << 20;
  l.max_file_bytes = std::size_t{1} << 20;
  l.max_total_written_bytes = std::size_t{8} << 20;
  l.max_files = 50;
  l.max_source_bytes = 64 << 10;
  return l;
}

fs::path workspace() {
  static const fs::path path = [] {
    std::string pattern = (fs::temp_directory_path() / "agentrt-fuzz-sandbox-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) __builtin_trap();
    return fs::path(pattern);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Interpreter> interpreter;
  static int runs = 0;
  if (!interpreter || ++runs % kRunsPerInterpreter == 0) {
    interpreter.reset();
    std::error_code ec;
    fs::remove_all(workspace(), ec);
    interpreter = std::make_unique<Interpreter>(fuzz_limits(), workspace());
  }
  const std::string_view code(reinterpret_cast<const char*>(data), size);
  if (code.rfind("--reset", 0) == 0) interpreter->reset();
  const auto result = interpreter->run_cell(code);
  // The memory cap holds after every cell, whatever it did.
  if (interpreter->memory_used() > fuzz_limits().memory_bytes) __builtin_trap();
  if (!result.ok && result.error.empty()) __builtin_trap();
  return 0;
}
