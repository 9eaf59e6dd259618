// libFuzzer target: the safetensors header parser must reject any byte string with CheckpointError, never
// crash, hang or read outside the input. Built when AGENTRT_FUZZ is ON with clang
// (tests/engine/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header = agentrt::engine::parse_safetensors_header(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    // Whatever was accepted must lie inside the input.
    for (const auto& tensor : header.tensors) {
      if (header.data_offset + tensor.end > size || tensor.begin > tensor.end) __builtin_trap();
    }
  } catch (const agentrt::engine::CheckpointError&) {
  }
  return 0;
}
