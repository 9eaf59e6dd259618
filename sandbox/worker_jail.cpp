#include "sandbox/worker_jail.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sandbox/jail_landlock.h"
#include "sandbox/jail_mounts.h"
#include "sandbox/worker_protocol.h"

namespace agentrt::sandbox {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void set_limit(int resource, rlim_t value) {
  rlimit current{};
  if (getrlimit(resource, &current) != 0) return;
  // Never raise a hard limit (we could not); lower both so the code cannot raise them back.
  const rlim_t v = current.rlim_max != RLIM_INFINITY && current.rlim_max < value ? current.rlim_max : value;
  rlimit next{v, v};
  setrlimit(resource, &next);
}

std::size_t address_space_now() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0;
  in >> pages;
  return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void apply_limits(const JailOptions& o) {
  // AddressSanitizer reserves terabytes of shadow address space at start-up, so under ASan an address-space
  // limit would make the worker's every later mapping fail. There the limit is left off: the Lua allocator's
  // cap (memory_budget.h) still bounds what a program can allocate, and the hostile memory programs of the
  // tests stay contained by it. (The Python worker is never built with ASan.)
  if (kJailLimitsAddressSpace) {
    const std::size_t base =
        o.address_space_base > 0 ? o.address_space_base : address_space_now() + (std::size_t{64} << 20);
    const std::size_t stacks = static_cast<std::size_t>(o.max_threads) * (std::size_t{8} << 20);
    set_limit(RLIMIT_AS, o.memory_bytes + base + stacks);
  }
  set_limit(RLIMIT_CPU, static_cast<rlim_t>(o.cpu_seconds));
  set_limit(RLIMIT_FSIZE, o.max_file_bytes + 4096);
  set_limit(RLIMIT_NOFILE, static_cast<rlim_t>(o.max_open_files));
  set_limit(RLIMIT_CORE, 0);
  set_limit(RLIMIT_MEMLOCK, 0);
  set_limit(RLIMIT_MSGQUEUE, 0);
  // Threads count against RLIMIT_NPROC (per user and user namespace): the main thread plus max_threads.
  // Root on the host is exempt from it; the jail never runs as root there.
  set_limit(RLIMIT_NPROC, static_cast<rlim_t>(o.max_threads == 0 ? 0 : o.max_threads + 1));
}

// No capabilities left in any set: bounding (so nothing can be regained), ambient, effective, permitted.
void drop_capabilities() {
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) {
      fail("drop the capability bounding set");
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) fail("drop capabilities");
}

void write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + path);
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (n != static_cast<ssize_t>(text.size())) fail("write " + path);
}

// The child's uid and gid maps: the one inner id, mapped to the unprivileged host id (root on the host may
// map any id; anyone else maps only their own, and must give up setgroups first).
void write_id_maps(pid_t child) {
  const std::string proc = "/proc/" + std::to_string(child);
  const bool root = ::geteuid() == 0;
  const unsigned uid = root ? kJailHostId : ::geteuid();
  const unsigned gid = root ? kJailHostId : ::getegid();
  if (!root) write_file(proc + "/setgroups", "deny");
  write_file(proc + "/uid_map", std::to_string(kJailInnerId) + " " + std::to_string(uid) + " 1\n");
  write_file(proc + "/gid_map", std::to_string(kJailInnerId) + " " + std::to_string(gid) + " 1\n");
}

// The jailed process's descriptors: the session's socket at fd 3, stdio where asked, nothing else but what
// `keep_fds` names, and /dev/null again at the numbers of `null_fds`.
void place_descriptors(const JailOptions& o) {
  constexpr int kSessionFd = 3;
  if (o.session_fd >= 0 && o.session_fd != kSessionFd) {
    const int high = ::fcntl(o.session_fd, F_DUPFD_CLOEXEC, 100);
    if (high < 0 || ::dup2(high, kSessionFd) < 0) fail("place the session socket");
    ::close(high);
  }
  if (o.null_stdio) {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(null, 2) < 0) fail("stdio");
    ::close(null);
  }
  close_descriptors_except(3, o.keep_fds);
  for (const int n : o.null_fds) {
    if (n <= kSessionFd) continue;
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0 && null != n) {
      ::dup2(null, n);
      ::close(null);
    }
  }
}

std::string current_folder() {
  std::vector<char> buf(4096);
  if (::getcwd(buf.data(), buf.size()) == nullptr) fail("getcwd");
  return buf.data();
}

bool read_byte(int fd, char& c) {
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// The jailed child, after the clone: waits until its id maps are written, then builds its root and takes on
// its unprivileged identity.
void jail_child(const JailOptions& o, const std::string& workspace, int idmapped, int go) {
  char c = 0;
  if (!read_byte(go, c) || c != 'g') ::_exit(3);
  ::close(go);
  if (::setsid() < 0) fail("setsid");
  // The workspace as seen in this mount namespace (the current folder moved into it with the clone), opened
  // before the id change: its folder may be one only the host's user can enter.
  const int ws = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ws < 0) fail("open the workspace");
  // First the one mapped id (files can only be made by a mapped id). The capabilities over this namespace
  // stay until drop_capabilities: the id it had was not a root the namespace knows. Supplementary groups are
  // cleared where the kernel allows it (root on the host wrote the maps), else they were given up with
  // setgroups "deny".
  if (::setgroups(0, nullptr) != 0 && errno != EPERM) fail("setgroups");
  if (::setresgid(kJailInnerId, kJailInnerId, kJailInnerId) != 0) fail("setresgid");
  if (::setresuid(kJailInnerId, kJailInnerId, kJailInnerId) != 0) fail("setresuid");
  build_jail_root(ws, idmapped, workspace, o.tmp_bytes);
  ::close(ws);
  if (::sethostname(kJailHostname, std::strlen(kJailHostname)) != 0) fail("sethostname");
}

// Clones the jailed process into its namespaces: a child of this process, or with `o.clone_parent` of this
// process's parent. In the jailed process it returns 0 with `in_child` set, to go on building the jail; here
// it returns the child's pid once its id maps are written and `started` was told (the child then builds its
// jail on its own and reports failures to the host itself). -1 with `why` set when the kernel refuses the
// namespaces (nothing is changed then, so the caller may fall back).
pid_t clone_into_namespaces(const JailOptions& o, const std::string& workspace, int workspace_fd,
                            const std::function<void(pid_t)>& started, bool& in_child, std::string& why,
                            std::string& note) {
  in_child = false;
  // Root on the host: the jail runs as kJailHostId and sees the workspace through an idmapped mount.
  int idmapped = -1;
  if (::geteuid() == 0) {
    std::string missing;
    idmapped = idmapped_workspace(workspace_fd, o.idmap_userns_fd, missing);
    if (idmapped < 0) note = "the workspace is not writable to the jail (no " + missing + ")";
  }
  int go[2], ready[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0) fail("pipe");
  const unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                              CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD | (o.clone_parent ? CLONE_PARENT : 0);
  // A raw clone (no new stack): the child continues here like after fork, as PID 1 of its namespace.
  const long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    why = std::string("cannot create user namespaces (clone: ") + std::strerror(errno) + ")";
    for (int fd : {go[0], go[1], ready[0], ready[1], idmapped}) {
      if (fd >= 0) ::close(fd);
    }
    return -1;
  }
  if (pid == 0) {
    in_child = true;
    ::close(go[1]);
    ::close(ready[0]);
    // Dumpable until the jail is built: the process writing the id maps, perhaps not root, must open them.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    const char dumpable = 'd';
    if (::write(ready[1], &dumpable, 1) != 1) ::_exit(3);
    ::close(ready[1]);
    jail_child(o, workspace, idmapped, go[0]);
    return 0;
  }
  const pid_t child = static_cast<pid_t>(pid);
  if (idmapped >= 0) ::close(idmapped);
  ::close(go[0]);
  ::close(ready[1]);
  // From here the child exists: whatever happens it is told to go on (or ends itself when the pipe closes),
  // and its pid is given out, so whoever waits for it can.
  char d = 0;
  std::string error;
  if (!read_byte(ready[0], d) || d != 'd') {
    error = "the jailed process did not start";
  } else {
    try {
      write_id_maps(child);
    } catch (const std::exception& e) {
      error = std::string("cannot map ids into the user namespace (") + e.what() + ")";
    }
  }
  ::close(ready[0]);
  if (started) started(child);
  if (error.empty()) {
    const char g = 'g';
    if (::write(go[1], &g, 1) != 1) error = "the jailed process did not start";
  }
  ::close(go[1]);  // without 'g' the child ends itself
  if (!error.empty()) note = error;
  return child;
}

}  // namespace

void leave_host_root() {
  if (::geteuid() != 0) return;
  if (::setgroups(0, nullptr) != 0) fail("setgroups");
  if (::setresgid(kJailHostId, kJailHostId, kJailHostId) != 0) fail("setresgid");
  if (::setresuid(kJailHostId, kJailHostId, kJailHostId) != 0) fail("setresuid");
}

const char* to_string(Isolation isolation) {
  return isolation == Isolation::Namespaces ? "namespaces" : "basic";
}

void close_descriptors_except(int first, const std::vector<int>& keep) {
  std::vector<int> sorted;
  for (int fd : keep) {
    if (fd >= first) sorted.push_back(fd);
  }
  std::sort(sorted.begin(), sorted.end());
  int from = first;
  for (int fd : sorted) {
    if (fd > from) ::close_range(static_cast<unsigned>(from), static_cast<unsigned>(fd - 1), 0);
    from = std::max(from, fd + 1);
  }
  ::close_range(static_cast<unsigned>(from), ~0U, 0);
}

JailEntry enter_jail(const JailOptions& o, const std::function<void(pid_t)>& started) {
  // A file write past the size limit should fail with EFBIG, not kill the worker.
  std::signal(SIGXFSZ, SIG_IGN);
  int workspace_fd = o.workspace_fd;
  const bool own_fd = workspace_fd < 0;
  if (own_fd) {
    workspace_fd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (workspace_fd < 0) fail("open the workspace");
  } else if (::fchdir(workspace_fd) != 0) {
    fail("enter the workspace");
  }
  const std::string workspace = o.workspace.empty() ? current_folder() : o.workspace.string();
  JailEntry entry;
  JailReport& report = entry.report;
  if (o.namespaces != NamespaceMode::Off) {
    bool in_child = false;
    std::string why, note;
    const pid_t pid = clone_into_namespaces(o, workspace, workspace_fd, started, in_child, why, note);
    if (pid > 0) {
      // This process's part is done: the jailed process goes on alone.
      if (own_fd) ::close(workspace_fd);
      entry.pid = pid;
      report.isolation = Isolation::Namespaces;
      report.note = note;
      return entry;
    }
    if (in_child) {
      report.isolation = Isolation::Namespaces;
      report.note = note;
    } else {
      if (o.namespaces == NamespaceMode::Require) throw std::runtime_error(why);
      report.note = why;
    }
  } else {
    report.note = "namespaces turned off";
  }
  if (report.isolation == Isolation::Basic && o.clone_parent) {
    // The basic jail for another process (the Python zygote keeps its own state): a plain sibling. It waits
    // until its pid has been told, so that nothing it writes to a shared channel can come first (under load
    // the sibling's ready message once overtook the launcher's pid message).
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) fail("pipe");
    const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) fail("clone");
    if (pid > 0) {
      ::close(go[0]);
      if (own_fd) ::close(workspace_fd);
      if (started) started(static_cast<pid_t>(pid));
      const char g = 1;
      const bool told = ::write(go[1], &g, 1) == 1;
      ::close(go[1]);
      if (!told) throw std::runtime_error("the jailed process did not start");
      entry.pid = static_cast<pid_t>(pid);
      return entry;
    }
    ::close(go[1]);
    char g = 0;
    ssize_t got = -1;
    while ((got = ::read(go[0], &g, 1)) < 0 && errno == EINTR) {
    }
    ::close(go[0]);
    if (got != 1) ::_exit(1);  // the launcher died before telling anyone about this process
  } else if (report.isolation == Isolation::Basic && started) {
    started(::getpid());
  }
  entry.in_jail = true;
  entry.pid = ::getpid();
  // The basic jail keeps the host's id (root stays root, as the Lua worker always ran): without a mount
  // namespace there is no way to let an unprivileged id write a root-owned workspace.
  if (report.isolation == Isolation::Basic) ::setsid();
  apply_limits(o);
  const LandlockPaths paths = report.isolation == Isolation::Namespaces ? jail_landlock_paths(workspace)
                                                                        : basic_landlock_paths(workspace);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS");
  report.landlock_abi = apply_landlock(paths);
  if (report.landlock_abi == 0) {
    if (o.require_landlock) throw std::runtime_error("the kernel has no Landlock");
    report.note += std::string(report.note.empty() ? "" : "; ") + "no Landlock";
  }
  if (report.isolation == Isolation::Namespaces) drop_capabilities();
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  place_descriptors(o);
  load_syscall_filter();
  return entry;
}

}  // namespace agentrt::sandbox
