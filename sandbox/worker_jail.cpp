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
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sandbox/jail_landlock.h"
#include "sandbox/jail_mounts.h"
#include "sandbox/jail_supervisor.h"
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

// The supervisor gives up root for kJailHostId but keeps one capability: reading and searching any folder,
// to measure a workspace whose folders are root's (or that the code made unreadable).
void become_supervisor() {
  if (::geteuid() != 0) return;
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail("PR_SET_KEEPCAPS");
  leave_host_root();
  for (int cap = 0; cap <= 63; ++cap) {
    if (cap != CAP_DAC_READ_SEARCH) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = 1U << CAP_DAC_READ_SEARCH;
  if (::syscall(SYS_capset, &header, data) != 0) fail("capset");
  ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

std::string current_folder() {
  std::vector<char> buf(4096);
  if (::getcwd(buf.data(), buf.size()) == nullptr) fail("getcwd");
  return buf.data();
}

void send_started(int status_fd, pid_t pid, Isolation isolation) {
  if (status_fd < 0) return;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const nlohmann::json j = {{"pid", pid}, {"isolation", to_string(isolation)}};
  send_message(status_fd, j.dump(), pidfd >= 0 ? std::vector<int>{pidfd} : std::vector<int>{});
  if (pidfd >= 0) ::close(pidfd);
}

bool read_byte(int fd, char& c) {
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// The jailed child, after the clone: waits until its id maps are written, builds its root and takes on its
// unprivileged identity. Reports "K" (or "E" and the error) on `done`.
void jail_child(const JailOptions& o, const std::string& workspace, int idmapped, int go, int parent_alive) {
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
  // After the id change (which clears it): the supervisor's death takes this process with it. A supervisor
  // already gone shows as a closed pipe.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  pollfd p{parent_alive, POLLIN, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLIN))) ::_exit(3);
  ::close(parent_alive);
}

// Clones the jailed child into its namespaces. In the child it returns "" after the root is built; in the
// supervisor it never returns once the child is ready (it supervises); on failure it returns why, in the
// calling process, with nothing changed but the current folder.
std::string try_namespaces(const JailOptions& o, const std::string& workspace, int workspace_fd,
                           bool& in_child, std::string& note) {
  in_child = false;
  // Root on the host: the jail runs as kJailHostId and sees the workspace through an idmapped mount.
  int idmapped = -1;
  if (::geteuid() == 0) {
    std::string why;
    idmapped = idmapped_workspace(workspace_fd, why);
    if (idmapped < 0) note = "the workspace is not writable to the jail (no " + why + ")";
  }
  int go[2], done[2], alive[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(done, O_CLOEXEC) != 0 || ::pipe2(alive, O_CLOEXEC) != 0) {
    return std::string("pipe: ") + std::strerror(errno);
  }
  const unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                              CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD;
  // A raw clone (no new stack): the child continues here like after fork, as PID 1 of its namespace.
  const long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    const std::string why =
        std::string("cannot create user namespaces (clone: ") + std::strerror(errno) + ")";
    for (int fd : {go[0], go[1], done[0], done[1], alive[0], alive[1], idmapped}) {
      if (fd >= 0) ::close(fd);
    }
    return why;
  }
  if (pid == 0) {
    in_child = true;
    ::close(go[1]);
    ::close(done[0]);
    ::close(alive[1]);
    // Dumpable until the jail is built: the supervisor, perhaps not root, must open this process's id maps
    // (it waits for this 'd').
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    const char dumpable = 'd';
    if (::write(done[1], &dumpable, 1) != 1) ::_exit(3);
    try {
      jail_child(o, workspace, idmapped, go[0], alive[0]);
    } catch (const std::exception& e) {
      const std::string msg = std::string("E") + e.what();
      (void)!::write(done[1], msg.data(), msg.size());
      ::_exit(3);
    }
    const char ok = 'K';
    (void)!::write(done[1], &ok, 1);
    ::close(done[1]);
    return "";
  }
  const pid_t child = static_cast<pid_t>(pid);
  if (idmapped >= 0) ::close(idmapped);
  ::close(go[0]);
  ::close(done[1]);
  ::close(alive[0]);
  auto abandon = [&](const std::string& why) {
    ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    for (int fd : {go[1], done[0], alive[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return why;
  };
  char d = 0;
  if (!read_byte(done[0], d) || d != 'd') return abandon("the jailed process did not start");
  try {
    write_id_maps(child);
  } catch (const std::exception& e) {
    return abandon(std::string("cannot map ids into the user namespace (") + e.what() + ")");
  }
  const char g = 'g';
  if (::write(go[1], &g, 1) != 1) return abandon("the jailed process did not start");
  ::close(go[1]);
  go[1] = -1;
  std::string answer;
  char buf[512];
  while (true) {
    const ssize_t n = ::read(done[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  if (answer != "K") {
    const std::string why = answer.size() > 1 ? answer.substr(1) : std::string("the jailed process stopped");
    return abandon("cannot build the jail (" + why + ")");
  }
  ::close(done[0]);
  // The child is jailed: this process becomes its supervisor, with nothing it could lend the code.
  SupervisorOptions s;
  s.child = child;
  s.child_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  s.status_fd = o.status_fd;
  s.workspace_fd = workspace_fd;
  s.max_growth = o.max_workspace_growth;
  s.max_entries = o.max_workspace_entries;
  send_started(o.status_fd, child, Isolation::Namespaces);
  try {
    become_supervisor();
    set_limit(RLIMIT_CORE, 0);
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    std::vector<int> keep = {s.child_pidfd, s.status_fd, s.workspace_fd, alive[1]};
    close_descriptors_except(3, keep);
    load_syscall_filter(child);
  } catch (const std::exception&) {
    ::kill(child, SIGKILL);
  }
  supervise(s);
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

JailReport enter_jail(const JailOptions& o) {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // A file write past the size limit should fail with EFBIG, not kill the worker.
  std::signal(SIGXFSZ, SIG_IGN);
  int workspace_fd = o.workspace_fd;
  if (workspace_fd < 0) {
    workspace_fd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (workspace_fd < 0) fail("open the workspace");
  } else if (::fchdir(workspace_fd) != 0) {
    fail("enter the workspace");
  }
  const std::string workspace = o.workspace.empty() ? current_folder() : o.workspace.string();
  JailReport report;
  if (o.namespaces != NamespaceMode::Off) {
    bool in_child = false;
    std::string note;
    const std::string why = try_namespaces(o, workspace, workspace_fd, in_child, note);
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
  if (report.isolation == Isolation::Basic) send_started(o.status_fd, ::getpid(), Isolation::Basic);
  close_descriptors_except(3, o.keep_fds);
  load_syscall_filter();
  return report;
}

}  // namespace agentrt::sandbox
