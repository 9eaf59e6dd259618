#include "engine/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace agentrt::engine {

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(path.string() + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path.string() + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw std::runtime_error(path.string() + ": cannot map: " + std::strerror(err));
    }
    data_ = static_cast<const std::byte*>(mapped);
  }
  fd_ = fd;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

bool MappedFile::contains(const void* data, std::size_t length) const {
  if (data_ == nullptr) return false;
  const auto begin = reinterpret_cast<uintptr_t>(data_), at = reinterpret_cast<uintptr_t>(data);
  return at >= begin && length <= size_ && at - begin <= size_ - length;
}

void MappedFile::copy_out(const void* data, std::size_t length, void* out) const {
  if (!contains(data, length)) throw std::out_of_range(path_.string() + ": copy_out outside the mapping");
  auto offset = static_cast<off_t>(static_cast<const std::byte*>(data) - data_);
  auto* to = static_cast<char*>(out);
  while (length > 0) {
    const ssize_t got = ::pread(fd_, to, length, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw std::runtime_error(
          path_.string() + ": cannot read " + std::to_string(length) + " bytes at offset " +
          std::to_string(offset) + ": " +
          (got < 0 ? std::strerror(errno) : "the file is shorter than when it was mapped"));
    }
    to += got;
    offset += got;
    length -= static_cast<std::size_t>(got);
  }
}

void MappedFile::advise_will_need(std::size_t offset, std::size_t length) const {
  if (data_ == nullptr || offset >= size_) return;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t begin = offset / page * page;
  const std::size_t end = std::min(size_, offset + length);
  ::madvise(const_cast<std::byte*>(data_) + begin, end - begin, MADV_WILLNEED);
}

void MappedFile::release(const void* data, std::size_t length) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(data) + length) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace agentrt::engine
