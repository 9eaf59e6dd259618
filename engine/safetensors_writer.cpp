#include "engine/safetensors_writer.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace agentrt::engine {

uint64_t PlannedTensorEntry::bytes() const {
  uint64_t n = dtype_size(dtype);
  for (const int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path, std::vector<PlannedTensorEntry> plan,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), plan_(std::move(plan)), out_(path, std::ios::binary | std::ios::trunc) {
  if (!out_) throw std::runtime_error(path.string() + ": cannot create");
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = metadata;
  for (const auto& t : plan_) {
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {total_, total_ + t.bytes()}}};
    total_ += t.bytes();
  }
  std::string text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the safetensors library does.
  while ((8 + text.size()) % 8 != 0) text += ' ';
  const uint64_t length = text.size();
  char length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  out_.write(length_bytes, 8);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void SafetensorsWriter::write(const std::string& name, const void* data, uint64_t bytes) {
  if (next_ >= plan_.size() || plan_[next_].name != name) {
    throw std::logic_error(path_.string() + ": tensor '" + name + "' written out of the planned order");
  }
  if (plan_[next_].bytes() != bytes) {
    throw std::logic_error(path_.string() + ": tensor '" + name + "' has " + std::to_string(bytes) +
                           " bytes, planned " + std::to_string(plan_[next_].bytes()));
  }
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out_) throw std::runtime_error(path_.string() + ": cannot write (disk full?)");
  ++next_;
}

void SafetensorsWriter::finish() {
  if (next_ != plan_.size()) {
    throw std::logic_error(path_.string() + ": " + std::to_string(plan_.size() - next_) +
                           " tensors not written");
  }
  out_.flush();
  if (!out_) throw std::runtime_error(path_.string() + ": cannot write (disk full?)");
  out_.close();
}

}  // namespace agentrt::engine
