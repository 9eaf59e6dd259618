// The tensors of a quantized linear layer (config.h QuantizationConfig) and their checks: dtypes, shapes
// against the layer's [out, in], and every scale finite and not negative. Checkpoint::open uses this for
// every layer; the fuzz target tests/fuzz/fuzz_quantized_checkpoint.cpp feeds it arbitrary tensors.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/config.h"
#include "engine/safetensors.h"

namespace agentrt::engine {

// A linear layer stored quantized:
//   AWQ int4: qweight I32 [in, out / 8], qzeros I32 [in / 128, out / 8], scales F16 [in / 128, out];
//   agentrt_int8: qweight I8 [out, in], scales F32 or F16 [out]; qzeros absent.
struct QuantizedLinear {
  TensorView qweight, qzeros, scales;
  bool present() const { return qweight.data != nullptr; }
};

// Finds a tensor by name; throws CheckpointError ("...: missing tensor 'NAME'") when there is none.
using TensorLookup = std::function<const TensorView&(const std::string& name)>;

// The quantized tensors of `base` ("model.layers.0.attention.wqkv", shape [out, in]), checked. `dir` prefixes
// messages ("DIR/FILE: tensor 'NAME' ..."). Throws CheckpointError naming the tensor and the reason.
QuantizedLinear take_quantized_linear(const QuantizationConfig& quantization, const std::string& base,
                                      int64_t out, int64_t in, const TensorLookup& find,
                                      const std::string& dir);

}  // namespace agentrt::engine
