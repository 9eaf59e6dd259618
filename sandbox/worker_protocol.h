// The wire between the host and its worker: length-prefixed JSON frames (4-byte little-endian length, then
// the text) over one Unix socket. Requests: {"op":"run","code":...,"timeout_ms":N} and {"op":"reset"};
// replies: a CellResult, or {"ready":true} once the worker has locked itself down.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace agentrt::sandbox
