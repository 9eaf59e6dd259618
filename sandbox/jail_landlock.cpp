#include "sandbox/jail_landlock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "sandbox/worker_jail.h"

namespace agentrt::sandbox {
namespace {

// The rights by ABI, spelled out here: the C library's headers may be older than the running kernel.
constexpr std::uint64_t kExecute = 1ULL << 0;
constexpr std::uint64_t kWriteFile = 1ULL << 1;
constexpr std::uint64_t kReadFile = 1ULL << 2;
constexpr std::uint64_t kReadDir = 1ULL << 3;
constexpr std::uint64_t kAbi1All = (1ULL << 13) - 1;  // execute .. make_sym
constexpr std::uint64_t kRefer = 1ULL << 13;          // ABI 2
constexpr std::uint64_t kTruncate = 1ULL << 14;       // ABI 3
constexpr std::uint64_t kIoctlDev = 1ULL << 15;       // ABI 5
constexpr std::uint64_t kNetBindTcp = 1ULL << 0;      // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ULL << 1;
constexpr std::uint64_t kScopeAbstractUnix = 1ULL << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ULL << 1;
constexpr unsigned kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;

struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};

struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};

long create_ruleset(const RulesetAttr* attr, std::size_t size, unsigned flags) {
  return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

int landlock_abi() {
  const long abi = create_ruleset(nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

int apply_landlock(const LandlockPaths& paths) {
  const int abi = landlock_abi();
  if (abi <= 0) return 0;
  std::uint64_t fs = kAbi1All;
  if (abi >= 2) fs |= kRefer;
  if (abi >= 3) fs |= kTruncate;
  if (abi >= 5) fs |= kIoctlDev;
  RulesetAttr attr{fs, 0, 0};
  std::size_t size = sizeof(std::uint64_t);
  if (abi >= 4) {
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
    size = 2 * sizeof(std::uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnix | kScopeSignal;
    size = sizeof(RulesetAttr);
  }
  const Fd ruleset(static_cast<int>(create_ruleset(&attr, size, 0)));
  if (ruleset.get() < 0) {
    throw std::runtime_error(std::string("landlock_create_ruleset failed: ") + std::strerror(errno));
  }
  const std::uint64_t read_only = kReadFile | kReadDir | kExecute;
  const std::uint64_t read_write = fs & ~kExecute & ~kIoctlDev;
  const std::uint64_t device = kReadFile | kWriteFile | (fs & kTruncate);
  auto allow = [&](const std::string& path, std::uint64_t access) {
    const Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (fd.get() < 0) return;  // not in this jail
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return;
    // A rule on a file may only hold file rights.
    if (!S_ISDIR(st.st_mode)) access &= kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
    PathBeneathAttr rule{access & fs, fd.get()};
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRulePathBeneath, &rule, 0) != 0) {
      throw std::runtime_error("landlock_add_rule(" + path + ") failed: " + std::strerror(errno));
    }
  };
  for (const auto& p : paths.read_only) allow(p, read_only);
  for (const auto& p : paths.read_write) allow(p, read_write);
  for (const auto& p : paths.devices) allow(p, device);
  for (const auto& p : paths.list_only) allow(p, kReadDir);
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    throw std::runtime_error(std::string("landlock_restrict_self failed: ") + std::strerror(errno));
  }
  return abi;
}

}  // namespace agentrt::sandbox
