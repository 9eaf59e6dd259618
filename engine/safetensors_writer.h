// Writes a safetensors file: the header (tensor names, dtypes, shapes, offsets, metadata) first, then each
// tensor's bytes in the order planned, so that large checkpoints stream to disk one tensor at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/dtype.h"

namespace agentrt::engine {

struct PlannedTensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t bytes() const;
};

class SafetensorsWriter {
 public:
  // Opens `path` and writes the header; throws std::runtime_error naming the file on failure.
  SafetensorsWriter(const std::filesystem::path& path, std::vector<PlannedTensorEntry> plan,
                    const std::map<std::string, std::string>& metadata = {{"format", "pt"}});
  // The next tensor's bytes (little-endian, as in memory); its name and size must be the next in the plan.
  void write(const std::string& name, const void* data, uint64_t bytes);
  // Checks that every tensor was written and flushes; throws std::runtime_error otherwise.
  void finish();
  uint64_t data_bytes() const { return total_; }

 private:
  std::filesystem::path path_;
  std::vector<PlannedTensorEntry> plan_;
  std::size_t next_ = 0;
  uint64_t total_ = 0;
  std::ofstream out_;
};

}  // namespace agentrt::engine
