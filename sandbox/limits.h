// The resource caps of one interpreter session, shared by the in-process interpreter, the worker and the
// host.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace agentrt::sandbox {

struct Limits {
  // Wall clock per cell. The interpreter stops itself at this deadline; the host kills the worker a little
  // later (pattern matching and other long C calls never reach the instruction hook).
  std::chrono::milliseconds timeout{10000};
  // Lua heap plus data frames of one session.
  std::size_t memory_bytes = std::size_t{256} << 20;
  // Lua VM instructions per cell (0: no cap beyond the wall clock).
  std::uint64_t max_instructions = 4'000'000'000ULL;
  // Captured print() output per cell; the rest is dropped with a marker.
  std::size_t max_output_bytes = std::size_t{256} << 10;
  // Largest string string.rep / table.concat / fs.read may build.
  std::size_t max_string_bytes = std::size_t{32} << 20;
  // Per written file, in total per session, and how many files a session may create.
  std::size_t max_file_bytes = std::size_t{16} << 20;
  std::size_t max_total_written_bytes = std::size_t{64} << 20;
  int max_files = 200;
  // Size of one cell's source text.
  std::size_t max_source_bytes = std::size_t{256} << 10;
};

}  // namespace agentrt::sandbox
