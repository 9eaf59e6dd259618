#include "sandbox/worker_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace agentrt::sandbox {
namespace {

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

ReadStatus recv_all(int fd, char* data, std::size_t size,
                    const std::optional<std::chrono::steady_clock::time_point>& deadline) {
  while (size > 0) {
    int wait_ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return ReadStatus::TimedOut;
      wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30));
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ReadStatus::Closed;
    }
    if (ready == 0) continue;
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n == 0) return ReadStatus::Closed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ReadStatus::Closed;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return ReadStatus::Ok;
}

}  // namespace

bool write_frame(int fd, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) return false;
  const auto n = static_cast<std::uint32_t>(payload.size());
  const unsigned char header[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                                   static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 24)};
  return send_all(fd, reinterpret_cast<const char*>(header), 4) &&
         send_all(fd, payload.data(), payload.size());
}

ReadStatus read_frame(int fd, std::string& payload,
                      std::optional<std::chrono::steady_clock::time_point> deadline) {
  unsigned char header[4];
  ReadStatus s = recv_all(fd, reinterpret_cast<char*>(header), 4, deadline);
  if (s != ReadStatus::Ok) return s;
  const std::uint32_t n =
      header[0] | (header[1] << 8) | (header[2] << 16) | (static_cast<std::uint32_t>(header[3]) << 24);
  if (n > kMaxFrameBytes) return ReadStatus::Invalid;
  payload.assign(n, '\0');
  return recv_all(fd, payload.data(), n, deadline);
}

namespace {
constexpr std::size_t kMaxPassedFds = 8;
constexpr std::size_t kMaxMessageBytes = 64 << 10;
}  // namespace

bool send_message(int fd, std::string_view text, const std::vector<int>& fds) {
  if (fds.size() > kMaxPassedFds) return false;
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (true) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno != EINTR) return false;
  }
}

ReadStatus read_message(int fd, std::string& text, std::vector<int>& fds,
                        std::optional<std::chrono::steady_clock::time_point> deadline) {
  fds.clear();
  while (true) {
    int wait_ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return ReadStatus::TimedOut;
      wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30));
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ReadStatus::Closed;
    if (ready == 0) continue;
    std::string buf(kMaxMessageBytes, '\0');
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return ReadStatus::Closed;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int passed = -1;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.push_back(passed);
      }
    }
    buf.resize(static_cast<std::size_t>(n));
    text = std::move(buf);
    return (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? ReadStatus::Invalid : ReadStatus::Ok;
  }
}

}  // namespace agentrt::sandbox
