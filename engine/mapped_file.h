// A read-only memory mapping of a whole file: checkpoint weights are used in place, never copied.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace agentrt::engine {

class MappedFile {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened or mapped.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }
  // Asks the kernel to read [offset, offset + length) ahead of use.
  void advise_will_need(std::size_t offset, std::size_t length) const;
  // Drops the pages wholly inside [data, data + length) from this process (they stay in the page cache and
  // are read back in if touched again): memory a converted weight no longer needs.
  static void release(const void* data, std::size_t length);

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace agentrt::engine
