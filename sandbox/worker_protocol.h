// The wire between the host and its worker: length-prefixed JSON frames (4-byte little-endian length, then
// the text) over one Unix socket. Requests: {"op":"run","code":...,"timeout_ms":N} and {"op":"reset"};
// replies: a CellResult, or {"ready":true,"isolation":...} once the worker has locked itself down.
// The Lua launcher first sends {"pid":N}, the jailed process's pid (the host's own child, which it waits for
// and kills). Messages with descriptors (SCM_RIGHTS over SOCK_SEQPACKET) are the Python zygote's control
// wire.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentrt::sandbox {

inline constexpr std::size_t kMaxFrameBytes = std::size_t{64} << 20;
// The worker's end of the socket, set up by the host before the worker starts.
inline constexpr int kWorkerFd = 3;

// Writes one frame; false when the peer is gone. Never raises SIGPIPE.
bool write_frame(int fd, std::string_view payload);

enum class ReadStatus { Ok, Closed, TimedOut, Invalid };
// Reads one frame, waiting at most until `deadline` (none: wait forever).
ReadStatus read_frame(int fd, std::string& payload,
                      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// One message on a SOCK_SEQPACKET socket (the status socket, the Python zygote's control socket): JSON text,
// with descriptors passed along (SCM_RIGHTS). False when the peer is gone.
bool send_message(int fd, std::string_view text, const std::vector<int>& fds = {});
// Reads one message; `fds` receives the descriptors that came with it (close-on-exec).
ReadStatus read_message(int fd, std::string& text, std::vector<int>& fds,
                        std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

}  // namespace agentrt::sandbox
