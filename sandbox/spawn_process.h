// Starting the sandbox's helper processes (the Lua worker, the Python zygote) the one way both need: the
// host's end of a socket as a fixed descriptor, stdin and stdout on /dev/null (stderr kept for crash
// reports), a chosen working folder, no blocked signals and default dispositions (the host's are not theirs),
// and a process group of their own (so a kill of the group reaches whatever they fork).
#pragma once

#include <sys/types.h>

namespace agentrt::sandbox {

// posix_spawn of `path` with `argv`/`envp`; `channel` becomes descriptor `channel_fd` in the child. Returns
// posix_spawn's result (0 or an errno value) and sets `pid` on success.
int spawn_process(const char* path, char* const argv[], char* const envp[], int channel, int channel_fd,
                  const char* working_folder, pid_t& pid);

}  // namespace agentrt::sandbox
