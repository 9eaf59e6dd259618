// The process-level defence the worker applies to itself before it runs any code: resource limits and a
// seccomp filter with no sockets, no exec and no new processes (threads stay allowed for the libraries that
// use them).
#pragma once

#include <cstddef>
#include <string>

// 1 in a build under AddressSanitizer (GCC defines __SANITIZE_ADDRESS__; clang answers the feature test).
#if defined(__SANITIZE_ADDRESS__)
#define AGENTRT_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGENTRT_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef AGENTRT_ADDRESS_SANITIZER
#define AGENTRT_ADDRESS_SANITIZER 0
#endif

namespace agentrt::sandbox {

// Whether enter_jail limits the address space (RLIMIT_AS): not under ASan, whose shadow memory is a
// reservation of terabytes; the Lua allocator's cap bounds memory there (worker_jail.cpp).
inline constexpr bool kJailLimitsAddressSpace = AGENTRT_ADDRESS_SANITIZER == 0;

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
