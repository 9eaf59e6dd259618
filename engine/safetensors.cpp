#include "engine/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

namespace agentrt::engine {
namespace {

// A header larger than this is not a checkpoint header (real ones are a few hundred KiB at most).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

[[noreturn]] void fail(const std::string& message) {
  throw CheckpointError(message);
}

uint64_t read_le64(const std::byte* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

TensorInfo parse_entry(const std::string& name, const nlohmann::json& entry) {
  const std::string where = "tensor '" + name + "'";
  if (!entry.is_object()) fail("bad header: " + where + " is not a JSON object");
  TensorInfo info;
  info.name = name;
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) fail("bad header: " + where + " has no \"dtype\" string");
  const auto parsed = dtype_from_name(dtype->get<std::string>());
  if (!parsed) {
    fail("unsupported dtype '" + dtype->get<std::string>() + "' of " + where +
         " (supported: BF16, F16, F32, I8, I32)");
  }
  info.dtype = *parsed;
  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) fail("bad header: " + where + " has no \"shape\" array");
  // numel * element size must fit in 64 bits; checked as we go.
  uint64_t bytes = dtype_size(info.dtype);
  for (const auto& dim : *shape) {
    if (!dim.is_number_unsigned())
      fail("bad header: " + where + " has a shape entry that is not a non-negative integer");
    const uint64_t d = dim.get<uint64_t>();
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("bad header: " + where + " has a huge shape");
    if (d != 0 && bytes > std::numeric_limits<uint64_t>::max() / d)
      fail("bad header: " + where + " has a huge shape");
    bytes *= d;
    info.shape.push_back(static_cast<int64_t>(d));
  }
  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
    fail("bad header: " + where + " has no \"data_offsets\" [begin, end] pair");
  }
  info.begin = (*offsets)[0].get<uint64_t>();
  info.end = (*offsets)[1].get<uint64_t>();
  if (info.end < info.begin) fail("bad header: " + where + " has data_offsets with end before begin");
  if (info.end - info.begin != bytes) {
    fail("bad header: " + where + " spans " + std::to_string(info.end - info.begin) + " bytes but shape " +
         format_shape(info.shape) + " of " + std::string(dtype_name(info.dtype)) + " needs " +
         std::to_string(bytes));
  }
  return info;
}

}  // namespace

std::string format_shape(std::span<const int64_t> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file) {
  if (file.size() < 8) {
    fail("truncated: the file has " + std::to_string(file.size()) +
         " bytes, fewer than the 8-byte header length");
  }
  SafetensorsHeader header;
  header.header_bytes = read_le64(file.data());
  if (header.header_bytes > kMaxHeaderBytes) {
    fail("bad header: header length " + std::to_string(header.header_bytes) +
         " is implausible (not a safetensors file?)");
  }
  if (header.header_bytes > file.size() - 8) {
    fail("truncated: the header needs " + std::to_string(header.header_bytes) +
         " bytes but the file has only " + std::to_string(file.size() - 8) + " after the length");
  }
  header.data_offset = 8 + header.header_bytes;
  const auto* text = reinterpret_cast<const char*>(file.data() + 8);
  const auto json =
      nlohmann::json::parse(text, text + header.header_bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) fail("bad header: the header is not valid JSON");
  if (!json.is_object()) fail("bad header: the header is not a JSON object");
  const uint64_t data_bytes = file.size() - header.data_offset;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("bad header: \"__metadata__\" is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail("bad header: \"__metadata__\" value of '" + key + "' is not a string");
        header.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    TensorInfo info = parse_entry(name, entry);
    if (info.end > data_bytes) {
      fail("truncated: tensor '" + name + "' ends at byte " + std::to_string(info.end) +
           " of the data section, which has " + std::to_string(data_bytes) + " bytes");
    }
    if ((header.data_offset + info.begin) % dtype_size(info.dtype) != 0) {
      fail("bad header: tensor '" + name + "' is not aligned to its element size");
    }
    header.tensors.push_back(std::move(info));
  }
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : header.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->begin < by_offset[i - 1]->end) {
      fail("bad header: tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
    }
  }
  return header;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) {
  try {
    file_ = std::make_unique<MappedFile>(path);
  } catch (const std::exception& e) {
    throw CheckpointError(e.what());
  }
  SafetensorsHeader header;
  try {
    header = parse_safetensors_header(file_->bytes());
  } catch (const CheckpointError& e) {
    throw CheckpointError(path.string() + ": " + e.what());
  }
  metadata_ = std::move(header.metadata);
  data_bytes_ = file_->bytes().size() - header.data_offset;
  const std::byte* data = file_->bytes().data() + header.data_offset;
  for (auto& info : header.tensors) {
    TensorView view;
    view.name = info.name;
    view.file = path.filename().string();
    view.dtype = info.dtype;
    view.shape = std::move(info.shape);
    view.data = data + info.begin;
    view.bytes = info.end - info.begin;
    tensors_.emplace(info.name, std::move(view));
  }
}

}  // namespace agentrt::engine
