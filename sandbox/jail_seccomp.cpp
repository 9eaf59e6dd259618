// The seccomp allowlist of every jailed worker: the system calls CPython (with numpy, pandas, matplotlib,
// IPython) and the Lua worker (with librsvg/cairo for PNGs) need, and nothing else. Anything
// not listed answers EPERM, so code that tries (a socket, exec, fork, mount, ptrace, bpf, io_uring, keyctl,
// ...) gets a clean PermissionError instead of killing the interpreter. Calls from another architecture (the
// 32-bit ABIs) kill the process (libseccomp's default for a foreign architecture).
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>

#include "sandbox/worker_jail.h"

namespace agentrt::sandbox {
namespace {

// Allowed with any arguments. Grouped by what needs them; each group is small on purpose.
const char* const kAllowed[] = {
    // Descriptors and files (the workspace, /tmp and the read-only root: the mounts and Landlock decide
    // what a path reaches; the filter only keeps the kernel surface small).
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "truncate",
    "fallocate",
    "fadvise64",
    "sendfile",
    "copy_file_range",
    "open",
    "openat",
    "creat",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "umask",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    // Memory.
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "msync",
    "membarrier",
    // Threads and this process (clone is listed below with its flags checked).
    "exit",
    "exit_group",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "getpgrp",
    "getpgid",
    "getsid",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "arch_prctl",
    "futex",
    "sched_yield",
    "sched_getaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getpriority",
    "wait4",
    "waitid",
    "capget",
    "getrlimit",
    "uname",
    "sysinfo",
    "getrandom",
    "getcpu",
    // Signals and time (the cell deadline is a timer signal).
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "sigaltstack",
    "pause",
    "restart_syscall",
    "alarm",
    "setitimer",
    "getitimer",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "times",
    "getrusage",
    // Waiting on descriptors this process already holds (GLib's main loop uses eventfd).
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "pipe",
    "pipe2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    // The socket the host gave the worker (no new socket can be made: socket and socketpair are not listed).
    "sendmsg",
    "recvmsg",
    "sendto",
    "recvfrom",
    "shutdown",
    "getsockopt",
    "getsockname",
    "getpeername",
};

// ioctl requests a language runtime makes on its own descriptors: terminal probes (isatty answers ENOTTY),
// bytes waiting, close-on-exec and non-blocking flags.
const unsigned long kAllowedIoctls[] = {TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX};

// prctl options that only read or name the calling thread.
const int kAllowedPrctls[] = {PR_SET_NAME,     PR_GET_NAME,         PR_GET_DUMPABLE,   PR_GET_SECCOMP,
                              PR_CAPBSET_READ, PR_GET_NO_NEW_PRIVS, PR_GET_TIMERSLACK, PR_GET_PDEATHSIG};

// Argument `arg` equals `value` (spelled out: libseccomp's SCMP_An macros leave datum_b to the compiler).
scmp_arg_cmp arg_equals(unsigned arg, scmp_datum_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_EQ, value, 0};
}

void add(scmp_filter_ctx ctx, int syscall, unsigned count, const scmp_arg_cmp* args) {
  const int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, syscall, count, args);
  if (rc != 0) throw std::runtime_error("seccomp_rule_add failed (" + std::to_string(syscall) + ")");
}

}  // namespace

void load_syscall_filter() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> owner(seccomp_init(SCMP_ACT_ERRNO(EPERM)),
                                                         seccomp_release);
  scmp_filter_ctx ctx = owner.get();
  if (ctx == nullptr) throw std::runtime_error("seccomp_init failed");
  for (const char* name : kAllowed) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a call of this architecture
    add(ctx, nr, 0, nullptr);
  }
  // clone: threads only (CLONE_THREAD set); a new process is refused. clone3 hides its flags in memory, so
  // it answers ENOSYS and the C library falls back to clone.
  const scmp_arg_cmp thread_only = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
  add(ctx, SCMP_SYS(clone), 1, &thread_only);
  if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0) {
    throw std::runtime_error("seccomp_rule_add(clone3) failed");
  }
  for (unsigned long request : kAllowedIoctls) {
    const scmp_arg_cmp cmp = arg_equals(1, request);
    add(ctx, SCMP_SYS(ioctl), 1, &cmp);
  }
  for (int option : kAllowedPrctls) {
    const scmp_arg_cmp cmp = arg_equals(0, static_cast<scmp_datum_t>(option));
    add(ctx, SCMP_SYS(prctl), 1, &cmp);
  }
  // Signals only to this process (its own process group after setsid; the jail's PID namespace holds no
  // other).
  const pid_t self = ::getpid();
  for (const scmp_datum_t target : {scmp_datum_t{0}, static_cast<scmp_datum_t>(self)}) {
    const scmp_arg_cmp cmp = arg_equals(0, target);
    add(ctx, SCMP_SYS(kill), 1, &cmp);
    if (target != 0) add(ctx, SCMP_SYS(tgkill), 1, &cmp);
  }
  // prlimit64 only to read a limit (new_limit == NULL): nothing can raise or lower one.
  const scmp_arg_cmp read_only = arg_equals(2, 0);
  add(ctx, SCMP_SYS(prlimit64), 1, &read_only);
  if (seccomp_load(ctx) != 0) throw std::runtime_error("seccomp_load failed");
}

}  // namespace agentrt::sandbox
