// The process-level defence the worker applies to itself before it runs any code: resource limits and a
// seccomp filter with no sockets, no exec and no new processes (threads stay allowed for the libraries that
// use them).
#pragma once

#include <cstddef>
#include <string>

namespace agentrt::sandbox {

struct JailOptions {
  std::size_t memory_bytes = std::size_t{256}
                             << 20;  // the Lua cap; the address-space limit adds room for code
  std::size_t max_file_bytes = std::size_t{16} << 20;
  int cpu_seconds = 600;  // over the worker's whole life: a runaway C call dies even if the host is stuck
};

// Applies rlimits (address space, CPU, file size, open files, processes, core dumps) and loads the seccomp
// filter. Throws std::runtime_error when the filter cannot be loaded.
void enter_jail(const JailOptions& options);

// Only the seccomp filter (used by the worker's self-test and by enter_jail).
void load_syscall_filter();

}  // namespace agentrt::sandbox
