#include "sandbox/worker_jail.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <memory>
#include <stdexcept>

namespace agentrt::sandbox {
namespace {

void set_limit(int resource, rlim_t value) {
  rlimit current{};
  if (getrlimit(resource, &current) != 0) return;
  // Never raise a hard limit (we could not); lower both so the code cannot raise them back.
  const rlim_t v = current.rlim_max != RLIM_INFINITY && current.rlim_max < value ? current.rlim_max : value;
  rlimit next{v, v};
  setrlimit(resource, &next);
}

}  // namespace

void load_syscall_filter() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) throw std::runtime_error("seccomp_init failed");
  const auto deny = SCMP_ACT_ERRNO(EPERM);
  const int denied[] = {
      SCMP_SYS(socket),
      SCMP_SYS(socketpair),
      SCMP_SYS(connect),
      SCMP_SYS(bind),
      SCMP_SYS(listen),
      SCMP_SYS(accept),
      SCMP_SYS(accept4),
      SCMP_SYS(execve),
      SCMP_SYS(execveat),
      SCMP_SYS(fork),
      SCMP_SYS(vfork),
      SCMP_SYS(ptrace),
      SCMP_SYS(process_vm_readv),
      SCMP_SYS(process_vm_writev),
      SCMP_SYS(mount),
      SCMP_SYS(umount2),
      SCMP_SYS(chroot),
      SCMP_SYS(pivot_root),
      SCMP_SYS(unshare),
      SCMP_SYS(setns),
      SCMP_SYS(kexec_load),
      SCMP_SYS(reboot),
      SCMP_SYS(init_module),
      SCMP_SYS(finit_module),
      SCMP_SYS(delete_module),
      SCMP_SYS(bpf),
      SCMP_SYS(perf_event_open),
      SCMP_SYS(keyctl),
      SCMP_SYS(add_key),
      SCMP_SYS(request_key),
      SCMP_SYS(userfaultfd),
      SCMP_SYS(io_uring_setup),
      SCMP_SYS(personality),
      SCMP_SYS(setrlimit),
      SCMP_SYS(prlimit64),
      SCMP_SYS(kill),
      SCMP_SYS(tkill),
  };
  for (int sc : denied) {
    if (seccomp_rule_add(ctx.get(), deny, sc, 0) != 0) throw std::runtime_error("seccomp_rule_add failed");
  }
  // clone: threads only (CLONE_THREAD set); a new process is refused. clone3 hides its flags in memory, so it
  // answers ENOSYS and the C library falls back to clone.
  if (seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) !=
          0 ||
      seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0) {
    throw std::runtime_error("seccomp_rule_add(clone) failed");
  }
  if (seccomp_load(ctx.get()) != 0) throw std::runtime_error("seccomp_load failed");
}

void enter_jail(const JailOptions& options) {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // A file write past the size limit should fail with EFBIG, not kill the worker.
  std::signal(SIGXFSZ, SIG_IGN);
  // AddressSanitizer reserves terabytes of shadow address space at start-up, so under ASan an address-space
  // limit would make the worker's every later mapping fail. There the limit is left off: the Lua allocator's
  // cap (memory_budget.h) still bounds what a program can allocate, and the hostile memory programs of the
  // tests stay contained by it.
  if (kJailLimitsAddressSpace) set_limit(RLIMIT_AS, options.memory_bytes + (std::size_t{1} << 30));
  set_limit(RLIMIT_CPU, static_cast<rlim_t>(options.cpu_seconds));
  set_limit(RLIMIT_FSIZE, options.max_file_bytes + 4096);
  set_limit(RLIMIT_NOFILE, 64);
  set_limit(RLIMIT_CORE, 0);
  set_limit(RLIMIT_NPROC, 0);
  load_syscall_filter();
}

}  // namespace agentrt::sandbox
