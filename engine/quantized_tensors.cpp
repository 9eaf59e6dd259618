#include "engine/quantized_tensors.h"

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>

namespace agentrt::engine {
namespace {

std::string where(const std::string& dir, const TensorView& view) {
  return dir + "/" + view.file + ": tensor '" + view.name + "'";
}

const TensorView& shaped(const TensorLookup& find, const std::string& dir, const std::string& name,
                         const std::vector<int64_t>& shape) {
  const TensorView& view = find(name);
  if (view.shape != shape) {
    throw CheckpointError(where(dir, view) + " has shape " + format_shape(view.shape) + ", expected " +
                          format_shape(shape) + " from config.json");
  }
  return view;
}

void require_dtype(const std::string& dir, const TensorView& view, std::initializer_list<DType> allowed) {
  std::string names;
  for (const DType d : allowed) {
    if (view.dtype == d) return;
    names += (names.empty() ? "" : " or ") + std::string(dtype_name(d));
  }
  throw CheckpointError(where(dir, view) + " is " + std::string(dtype_name(view.dtype)) + "; expected " +
                        names);
}

// Every scale finite and not negative, so that a corrupt scale is named here and not found in the logits.
void check_scales(const std::string& dir, const TensorView& view, int64_t per_row) {
  const int64_t n = view.numel();
  for (int64_t i = 0; i < n; ++i) {
    float value = 0.0f;
    if (view.dtype == DType::F32) {
      std::memcpy(&value, static_cast<const char*>(view.data) + 4 * i, 4);
    } else {
      uint16_t half = 0;
      std::memcpy(&half, static_cast<const char*>(view.data) + 2 * i, 2);
      value = view.dtype == DType::F16 ? f16_to_f32(half) : bf16_to_f32(half);
    }
    // Weights are at most 255 scales in magnitude; they must stay finite in fp32.
    if (!std::isfinite(value) || value < 0.0f || value > std::numeric_limits<float>::max() / 256) {
      throw CheckpointError(where(dir, view) + " holds the scale " + std::to_string(value) + " at [" +
                            std::to_string(i / per_row) + ", " + std::to_string(i % per_row) +
                            "]; scales must be finite, not negative and below 1.3e36");
    }
  }
}

}  // namespace

QuantizedLinear take_quantized_linear(const QuantizationConfig& quantization, const std::string& base,
                                      int64_t out, int64_t in, const TensorLookup& find,
                                      const std::string& dir) {
  QuantizedLinear q;
  if (quantization.method == QuantMethod::Awq) {
    const int64_t group = quantization.group_size;
    if (group <= 0 || out % 8 != 0 || in % group != 0) {
      throw CheckpointError(dir + ": tensor '" + base + ".qweight' would be [" + std::to_string(in) + ", " +
                            std::to_string(out) + " / 8] with groups of " + std::to_string(group) +
                            ": out_features must be a multiple of 8 and in_features of the group size");
    }
    q.qweight = shaped(find, dir, base + ".qweight", {in, out / 8});
    require_dtype(dir, q.qweight, {DType::I32});
    q.qzeros = shaped(find, dir, base + ".qzeros", {in / group, out / 8});
    require_dtype(dir, q.qzeros, {DType::I32});
    q.scales = shaped(find, dir, base + ".scales", {in / group, out});
    require_dtype(dir, q.scales, {DType::F16});
    check_scales(dir, q.scales, out);
  } else if (quantization.method == QuantMethod::Int8) {
    q.qweight = shaped(find, dir, base + ".qweight", {out, in});
    require_dtype(dir, q.qweight, {DType::I8});
    q.scales = shaped(find, dir, base + ".scales", {out});
    require_dtype(dir, q.scales, {DType::F32, DType::F16});
    check_scales(dir, q.scales, out);
  } else {
    throw CheckpointError(dir + ": '" + base + "' is not quantized in this checkpoint");
  }
  return q;
}

}  // namespace agentrt::engine
