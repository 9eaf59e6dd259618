// libFuzzer target: the checks and the unpacking of a quantized checkpoint's linear layer. The first byte
// chooses the layout (AWQ int4 or agentrt_int8) and the layer's shape; the rest is a safetensors file holding
// its tensors. Anything malformed must be refused with CheckpointError; whatever is accepted must unpack to
// finite weights, never crash, hang or read outside the input. Built when AGENTRT_FUZZ is ON with clang.
// fuzz-libs: agentrt_engine
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "engine/cpu/cpu_weights.h"
#include "engine/quantized_tensors.h"
#include "engine/safetensors.h"

namespace {

using namespace agentrt::engine;

agentrt::engine::cpu::ThreadPool& pool() {
  static agentrt::engine::cpu::ThreadPool p(1);
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t choice = data[0];
  QuantizationConfig config;
  config.method = (choice & 1) != 0 ? QuantMethod::Int8 : QuantMethod::Awq;
  config.bits = config.method == QuantMethod::Awq ? 4 : 8;
  config.group_size = config.method == QuantMethod::Awq ? 128 : -1;
  const int64_t out = 8 * (1 + ((choice >> 1) & 3));   // 8, 16, 24, 32
  const int64_t in = 128 * (1 + ((choice >> 3) & 1));  // 128, 256
  // A mapped checkpoint starts page aligned: copy the file into aligned memory, as mmap would give it.
  std::vector<uint64_t> aligned((size - 1 + 7) / 8);
  if (size > 1) std::memcpy(aligned.data(), data + 1, size - 1);
  const auto* base = reinterpret_cast<const uint8_t*>(aligned.data());
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(base), size - 1);
  try {
    const SafetensorsHeader header = parse_safetensors_header(file);
    std::map<std::string, TensorView> tensors;
    for (const TensorInfo& info : header.tensors) {
      TensorView view;
      view.name = info.name;
      view.file = "fuzz.safetensors";
      view.dtype = info.dtype;
      view.shape = info.shape;
      view.data = file.data() + header.data_offset + info.begin;
      view.bytes = info.end - info.begin;
      tensors.emplace(info.name, view);
    }
    const auto find = [&](const std::string& name) -> const TensorView& {
      const auto it = tensors.find(name);
      if (it == tensors.end()) throw CheckpointError("fuzz: missing tensor '" + name + "'");
      return it->second;
    };
    const QuantizedLinear q = take_quantized_linear(config, "w", out, in, find, "fuzz");
    // Accepted: every byte it will read lies inside the input, and every weight unpacks finite.
    for (const TensorView* t : {&q.qweight, &q.qzeros, &q.scales}) {
      if (t->data == nullptr) continue;
      const auto* begin = static_cast<const uint8_t*>(t->data);
      if (begin < base || begin + t->bytes > base + (size - 1)) __builtin_trap();
    }
    const auto matrix = agentrt::engine::cpu::repack_quantized(q, config.method, static_cast<int>(out),
                                                               static_cast<int>(in), pool());
    std::vector<float> row(static_cast<std::size_t>(in));
    for (int r = 0; r < out; ++r) {
      agentrt::engine::cpu::convert_row(matrix->view(), r, row.data());
      for (const float w : row) {
        if (!std::isfinite(w)) __builtin_trap();
      }
    }
  } catch (const CheckpointError&) {
  }
  return 0;
}
