// The jail itself, checked from the host's side of a running worker: its own namespaces, an unprivileged id,
// no capabilities, no_new_privs, the seccomp filter, a minimal root; the basic jail where namespaces are off;
// the probe; the jailed process as the host's own child, and how it ended.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "sandbox/jail_support.h"
#include "sandbox/sandbox.h"
#include "sandbox/workspace_watch.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

namespace fs = std::filesystem;
using testing::session_options;
using testing::TempWorkspace;
using testing::worker_path;

using testing::read_text;
using testing::status_field;
std::string ns_of(const std::string& pid, const std::string& kind) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + pid + "/ns/" + kind, ec).string();
}

bool have_namespaces() {
  return probe_jail_support(worker_path()).namespaces;
}

TEST(Jail, ProbeSaysWhatThisKernelAllows) {
  const JailSupport s = probe_jail_support(worker_path());
  // The answer is cached and stable.
  EXPECT_EQ(probe_jail_support(worker_path()).namespaces, s.namespaces);
  EXPECT_EQ(s.landlock_abi, landlock_abi());
  EXPECT_NE(s.describe().find("seccomp allowlist"), std::string::npos);
  if (!s.namespaces) {
    EXPECT_FALSE(s.detail.empty()) << "a missing jail says why";
  }
  EXPECT_EQ(s.to_json()["full"], s.full());
}

TEST(Jail, WorkerRunsInItsOwnNamespacesWithoutPrivileges) {
  if (!have_namespaces()) GTEST_SKIP() << "this kernel lets no user namespaces be made";
  TempWorkspace ws;
  Session s(session_options(ws.path()));
  s.start();
  EXPECT_EQ(s.isolation(), Isolation::Namespaces);
  const pid_t pid = s.worker_pid();
  const std::string p = std::to_string(pid);
  for (const char* kind : {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"}) {
    EXPECT_NE(ns_of(p, kind), ns_of("self", kind)) << kind;
  }
  // An unprivileged id on the host: root runs the jail as nobody, anyone else as themselves.
  const unsigned host_id = ::geteuid() == 0 ? kJailHostId : ::geteuid();
  EXPECT_EQ(status_field(pid, "Uid").substr(0, status_field(pid, "Uid").find('\t')), std::to_string(host_id));
  std::istringstream map(read_text("/proc/" + p + "/uid_map"));
  unsigned inner = 0, outer = 0, count = 0;
  map >> inner >> outer >> count;
  EXPECT_EQ(inner, kJailInnerId);
  EXPECT_EQ(outer, host_id);
  EXPECT_EQ(count, 1u);
  for (const char* caps : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(status_field(pid, caps), "0000000000000000") << caps;
  }
  EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(pid, "Seccomp"), "2");
  // PID 1 of its own namespace.
  EXPECT_EQ(status_field(pid, "NSpid"), p + "\t1");
  // The root it sees: the system folders, its workspace, nothing of the host's home or secrets.
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator("/proc/" + p + "/root")) top.insert(e.path().filename());
  EXPECT_TRUE(top.count("usr"));
  EXPECT_TRUE(top.count("proc"));
  EXPECT_TRUE(top.count("tmp"));
  for (const char* absent : {"root", "home", "work", "boot", "sys", "srv", "opt"}) {
    EXPECT_EQ(top.count(absent), 0u) << absent;
  }
  std::error_code ec;
  EXPECT_FALSE(fs::exists("/proc/" + p + "/root/etc/shadow", ec));
  EXPECT_FALSE(fs::exists("/proc/" + p + "/root/etc/passwd", ec));
  EXPECT_TRUE(fs::exists("/proc/" + p + "/root" + fs::canonical(ws.path()).string(), ec));
  // The network: a loopback, down.
  const std::string dev = read_text("/proc/" + p + "/net/dev");
  EXPECT_NE(dev.find("lo:"), std::string::npos) << dev;
  EXPECT_EQ(std::count(dev.begin(), dev.end(), ':'), 1) << dev;
  // Its private /proc shows its own processes only, and no system files (subset=pid).
  EXPECT_FALSE(fs::exists("/proc/" + p + "/root/proc/sys", ec));
  EXPECT_FALSE(fs::exists("/proc/" + p + "/root/proc/" + std::to_string(::getpid()), ec));
}

TEST(Jail, BasicJailWhereNamespacesAreOff) {
  TempWorkspace ws;
  SessionOptions o = session_options(ws.path());
  o.use_namespaces = false;
  Session s(o);
  const auto r = s.run("return 6 * 7");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "42");
  EXPECT_EQ(s.isolation(), Isolation::Basic);
  const pid_t pid = s.worker_pid();
  EXPECT_EQ(ns_of(std::to_string(pid), "mnt"), ns_of("self", "mnt"));
  EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(pid, "Seccomp"), "2");
  // It keeps the host's id, as the Lua worker always did (no mount namespace: nothing could let another id
  // write a workspace that is the host user's).
  EXPECT_EQ(status_field(pid, "Uid").substr(0, status_field(pid, "Uid").find('\t')),
            std::to_string(::geteuid()));
}

TEST(Jail, PythonIsRefusedWithoutTheFullJailUnlessAccepted) {
  TempWorkspace ws;
  SessionOptions o = session_options(ws.path());
  o.language = Language::Python;
  o.use_namespaces = false;  // as where the kernel refuses them
  Session refused(o);
  const auto r = refused.run("1 + 1");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("Python is refused here"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("--interpreter-unsafe"), std::string::npos) << r.error;
}

TEST(Jail, TheJailedProcessIsTheHostsChildAndItsEndIsReported) {
  if (!have_namespaces()) GTEST_SKIP() << "this kernel lets no user namespaces be made";
  TempWorkspace ws;
  Session s(session_options(ws.path()));
  s.start();
  EXPECT_EQ(status_field(s.worker_pid(), "PPid"), std::to_string(::getpid()));
  // (PID 1 of a namespace takes only SIGKILL and SIGSTOP from outside it.)
  ::kill(s.worker_pid(), SIGKILL);
  const auto r = s.run("return 1");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, Failure::Crashed);
  EXPECT_NE(r.error.find("signal 9 (SIGKILL)"), std::string::npos) << r.error;
  EXPECT_EQ(s.run("return 2").value, "2");
}

TEST(Jail, TheWorkspaceKeepsItsOwnerAndTheJailWritesIt) {
  // A folder only its owner may enter (mkdtemp's 0700): the jail, an unprivileged id, still reads and writes
  // it (root's through an idmapped mount), and what it writes belongs to the workspace's owner.
  TempWorkspace ws;
  std::ofstream(ws.path() / "in.txt") << "from the host";
  // The user's files keep their owner and mode, however deep, whoever owns them (root may plant another's).
  fs::create_directories(ws.path() / "deep" / "er");
  std::ofstream(ws.path() / "deep" / "er" / "theirs.txt") << "someone's";
  ASSERT_EQ(::chmod((ws.path() / "deep" / "er" / "theirs.txt").c_str(), 0640), 0);
  const bool other_owner =
      ::geteuid() == 0 && ::chown((ws.path() / "deep" / "er" / "theirs.txt").c_str(), 4242, 4343) == 0;
  auto owner_of = [](const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 ? std::make_tuple(st.st_uid, st.st_gid, st.st_mode)
                                        : std::make_tuple(~0U, ~0U, mode_t{0});
  };
  const auto in_before = owner_of(ws.path() / "in.txt");
  const auto deep_before = owner_of(ws.path() / "deep" / "er");
  const auto theirs_before = owner_of(ws.path() / "deep" / "er" / "theirs.txt");
  Session s(session_options(ws.path()));
  const auto r = s.run("fs.write('out.txt', fs.read('in.txt') .. ', and back')\nreturn fs.read('out.txt')");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "from the host, and back");
  struct stat st {};
  ASSERT_EQ(::stat((ws.path() / "out.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_EQ(::stat(ws.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  s.reset();
  EXPECT_EQ(owner_of(ws.path() / "in.txt"), in_before);
  EXPECT_EQ(owner_of(ws.path() / "deep" / "er"), deep_before);
  EXPECT_EQ(owner_of(ws.path() / "deep" / "er" / "theirs.txt"), theirs_before);
  if (other_owner) {
    EXPECT_EQ(std::get<0>(theirs_before), 4242u);
  }
}

TEST(Jail, WorkspaceUsageCountsFilesWithoutFollowingLinks) {
  TempWorkspace ws;
  std::ofstream(ws.path() / "a.txt") << std::string(10000, 'x');
  fs::create_directory(ws.path() / "sub");
  std::ofstream(ws.path() / "sub" / "b.txt") << "y";
  fs::create_symlink("/usr", ws.path() / "link");
  const int fd = ::open(ws.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  const WorkspaceUsage u = workspace_usage(fd, 100);
  EXPECT_EQ(u.entries, 4u);
  EXPECT_TRUE(u.complete);
  EXPECT_GE(u.bytes, 10000u);
  EXPECT_LT(u.bytes, 1u << 20);  // /usr was not walked
  EXPECT_FALSE(workspace_usage(fd, 3).complete);
  ::close(fd);
}

}  // namespace
}  // namespace agentrt::sandbox
