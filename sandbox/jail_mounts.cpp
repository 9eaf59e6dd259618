#include "sandbox/jail_mounts.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "sandbox/worker_jail.h"

namespace agentrt::sandbox {
namespace {

// Where the new root is assembled before the pivot: a tmpfs over the host's /tmp, inside this mount namespace
// only (the workspace is reached through its descriptor, so it may live under /tmp too).
constexpr const char* kStaging = "/tmp";

// The host paths the interpreters read: the C library and every other library, CPython's standard library and
// packages, Lua's, fonts (all under /usr); from /etc only what the dynamic loader, fontconfig, matplotlib and
// Debian's alternatives links need.
const char* const kSystemPaths[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
const char* const kEtcPaths[] = {"/etc/ld.so.cache",  "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                                 "/etc/alternatives", "/etc/fonts",      "/etc/matplotlibrc",
                                 "/etc/localtime",    "/etc/mime.types"};
const char* const kVarPaths[] = {"/var/cache/fontconfig"};
const char* const kDevices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void make_dirs(const std::string& path) {
  std::string part;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      part = path.substr(0, i);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir " + part);
    }
  }
}

void make_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("create " + path);
  ::close(fd);
}

// The flags a remount must keep: the kernel refuses to clear nosuid/nodev/noexec/atime flags a mount made
// outside this user namespace was given (they are locked).
unsigned long locked_flags(const std::string& path) {
  struct statvfs sv {};
  if (::statvfs(path.c_str(), &sv) != 0) fail("statvfs " + path);
  unsigned long flags = 0;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

void bind_mount(const std::string& source, const std::string& target, unsigned long extra) {
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    fail("bind " + source + " to " + target);
  }
  const unsigned long flags = MS_BIND | MS_REMOUNT | extra | locked_flags(target);
  if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0) fail("remount " + target);
}

// Recreates `host` inside the staging root: a symbolic link as the same link, a folder or file as a read-only
// bind of it. Missing paths are skipped.
void mirror_read_only(const std::string& host) {
  struct stat st {};
  if (::lstat(host.c_str(), &st) != 0) return;
  const std::string target = std::string(kStaging) + host;
  make_dirs(target.substr(0, target.rfind('/')));
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> buf(4096);
    const ssize_t n = ::readlink(host.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) fail("readlink " + host);
    buf[static_cast<std::size_t>(n)] = '\0';
    if (::symlink(buf.data(), target.c_str()) != 0 && errno != EEXIST) fail("symlink " + target);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    make_dirs(target);
  } else {
    make_file(target);
  }
  bind_mount(host, target, MS_RDONLY | MS_NOSUID | MS_NODEV);
}

// The new mount API, spelled out: the C library's <sys/mount.h> and <linux/mount.h> do not mix.
constexpr unsigned kOpenTreeClone = 1;
constexpr unsigned kMoveMountEmptyPath = 0x00000004;
constexpr std::uint64_t kAttrNoSuid = 0x2;
constexpr std::uint64_t kAttrNoDev = 0x4;
constexpr std::uint64_t kAttrNoExec = 0x8;
constexpr std::uint64_t kAttrIdmap = 0x00100000;
struct MountAttr {
  std::uint64_t attr_set;
  std::uint64_t attr_clr;
  std::uint64_t propagation;
  std::uint64_t userns_fd;
};

void write_map(pid_t pid, const char* file, const std::string& text) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + path);
  const ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) fail("write " + path);
}

}  // namespace

int host_id_namespace() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) fail("pipe");
  // The child only waits on the pipe until this process closes its end: it runs on a small stack of its own
  // in this process's memory, with a copy of its descriptor table (so it closes its copy of that end first).
  static thread_local char stack[16384];
  auto wait = [](void* arg) -> int {
    const int* fds = static_cast<const int*>(arg);
    ::close(fds[1]);
    char c = 0;
    (void)!::read(fds[0], &c, 1);
    return 0;
  };
  const pid_t pid = ::clone(+wait, stack + sizeof stack, CLONE_VM | CLONE_NEWUSER | SIGCHLD, p);
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    fail("clone a user namespace");
  }
  int fd = -1;
  std::string error;
  try {
    const std::string map = "0 " + std::to_string(kJailHostId) + " 1\n";
    write_map(pid, "uid_map", map);
    write_map(pid, "gid_map", map);
    fd = ::open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) error = std::string("open its namespace: ") + std::strerror(errno);
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::close(p[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(p[0]);
  if (fd < 0) throw std::runtime_error(error);
  return fd;
}

int idmapped_workspace(int workspace_fd, int userns_fd, std::string& why) {
  int own = -1;
  if (userns_fd < 0) {
    try {
      own = userns_fd = host_id_namespace();
    } catch (const std::exception& e) {
      why = e.what();
      return -1;
    }
  }
  const int tree = static_cast<int>(
      ::syscall(SYS_open_tree, workspace_fd, "", kOpenTreeClone | O_CLOEXEC | AT_EMPTY_PATH));
  if (tree < 0) {
    why = std::string("open_tree: ") + std::strerror(errno);
    if (own >= 0) ::close(own);
    return -1;
  }
  MountAttr attr{kAttrIdmap | kAttrNoSuid | kAttrNoDev | kAttrNoExec, 0, 0,
                 static_cast<std::uint64_t>(userns_fd)};
  const long rc = ::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr);
  const int saved = errno;
  if (own >= 0) ::close(own);
  if (rc != 0) {
    why = std::string("an idmapped mount of the workspace: ") + std::strerror(saved);
    ::close(tree);
    return -1;
  }
  return tree;
}

void build_jail_root(int ws, int idmapped_fd, const std::string& workspace, std::size_t tmp_bytes) {
  if (workspace.empty() || workspace[0] != '/')
    throw std::runtime_error("the workspace path must be absolute");
  // Nothing mounted here may reach the host's mount tree.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("make / private");
  if (::mount("agentrt-root", kStaging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096") !=
      0) {
    fail("mount the root tmpfs");
  }
  const std::string root = kStaging;
  for (const char* p : kSystemPaths) mirror_read_only(p);
  make_dirs(root + "/etc");
  for (const char* p : kEtcPaths) mirror_read_only(p);
  for (const char* p : kVarPaths) mirror_read_only(p);
  make_dirs(root + "/dev");
  for (const char* d : kDevices) {
    struct stat st {};
    if (::stat(d, &st) != 0 || !S_ISCHR(st.st_mode)) continue;
    make_file(root + d);
    bind_mount(d, root + d, MS_NOSUID | MS_NOEXEC);
  }
  for (const auto& [name, to] :
       std::vector<std::pair<std::string, std::string>>{{"fd", "/proc/self/fd"},
                                                        {"stdin", "/proc/self/fd/0"},
                                                        {"stdout", "/proc/self/fd/1"},
                                                        {"stderr", "/proc/self/fd/2"}}) {
    if (::symlink(to.c_str(), (root + "/dev/" + name).c_str()) != 0) fail("symlink /dev/" + name);
  }
  // /proc before the pivot: the kernel mounts a new proc only where a fully visible one is already mounted.
  // subset=pid leaves out /proc/sys, /proc/kcore and the other system-wide files.
  make_dirs(root + "/proc");
  const unsigned long proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (::mount("proc", (root + "/proc").c_str(), "proc", proc_flags, "subset=pid") != 0 &&
      ::mount("proc", (root + "/proc").c_str(), "proc", proc_flags, nullptr) != 0) {
    fail("mount a private /proc");
  }
  make_dirs(root + "/tmp");
  const std::string tmp_options = "mode=1777,size=" + std::to_string(tmp_bytes) + ",nr_inodes=4096";
  if (::mount("agentrt-tmp", (root + "/tmp").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              tmp_options.c_str()) != 0) {
    fail("mount the private /tmp");
  }
  // The workspace: read-write, but nothing in it may be executed or mapped executable (a library written
  // there cannot be loaded).
  make_dirs(root + workspace);
  if (idmapped_fd >= 0) {
    if (::syscall(SYS_move_mount, idmapped_fd, "", AT_FDCWD, (root + workspace).c_str(),
                  kMoveMountEmptyPath) != 0) {
      fail("attach the workspace");
    }
    ::close(idmapped_fd);
  } else {
    bind_mount("/proc/self/fd/" + std::to_string(ws), root + workspace, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  }
  if (::chdir(root.c_str()) != 0) fail("chdir to the new root");
  // pivot_root(".", "."): the old root ends up stacked on the new one and is then detached.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) fail("detach the host's root");
  if (::chdir("/") != 0) fail("chdir /");
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    fail("make the root read-only");
  }
  if (::chdir(workspace.c_str()) != 0) fail("chdir to the workspace");
}

LandlockPaths jail_landlock_paths(const std::string& workspace) {
  LandlockPaths p;
  p.read_only = {"/usr", "/etc", "/var", "/proc"};
  p.read_write = {workspace, "/tmp"};
  p.devices.assign(std::begin(kDevices), std::end(kDevices));
  p.list_only = {"/"};  // the jail's own small root
  return p;
}

LandlockPaths basic_landlock_paths(const std::string& workspace) {
  LandlockPaths p;
  p.read_only.assign(std::begin(kSystemPaths), std::end(kSystemPaths));
  p.read_only.insert(p.read_only.end(), std::begin(kEtcPaths), std::end(kEtcPaths));
  p.read_only.insert(p.read_only.end(), std::begin(kVarPaths), std::end(kVarPaths));
  p.read_only.push_back("/proc/self");
  p.read_write = {workspace};
  p.devices.assign(std::begin(kDevices), std::end(kDevices));
  return p;
}

}  // namespace agentrt::sandbox
