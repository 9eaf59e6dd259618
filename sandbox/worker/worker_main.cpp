// agentrt-sandbox: the Lua worker process of one interpreter session. The host starts it with posix_spawn,
// its working folder set to the session's workspace and the session socket on fd 3. It enters the jail
// (worker_jail.h): the jailed process is cloned as the host's own child, this launcher sends its pid and
// ends; the jailed process says it is ready, then runs the cells it is sent, one at a time, until the socket
// closes.
// `--probe-jail` reports what jail this kernel lets it build.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/interpreter.h"
#include "sandbox/jail_config.h"
#include "sandbox/worker_jail.h"
#include "sandbox/worker_protocol.h"

namespace {

using agentrt::sandbox::kWorkerFd;

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

agentrt::sandbox::Limits parse_limits(const std::string& text) {
  agentrt::sandbox::Limits l;
  const auto j = nlohmann::json::parse(text);
  l.timeout = std::chrono::milliseconds(j.value("timeout_ms", l.timeout.count()));
  l.memory_bytes = j.value("memory_bytes", l.memory_bytes);
  l.max_instructions = j.value("max_instructions", l.max_instructions);
  l.max_output_bytes = j.value("max_output_bytes", l.max_output_bytes);
  l.max_string_bytes = j.value("max_string_bytes", l.max_string_bytes);
  l.max_file_bytes = j.value("max_file_bytes", l.max_file_bytes);
  l.max_total_written_bytes = j.value("max_total_written_bytes", l.max_total_written_bytes);
  l.max_files = j.value("max_files", l.max_files);
  l.max_source_bytes = j.value("max_source_bytes", l.max_source_bytes);
  return l;
}

// Prints what the seccomp filter lets through, as JSON on stdout (for the tests of the filter itself).
int self_test_filter() {
  agentrt::sandbox::load_syscall_filter();
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  const int socket_errno = s < 0 ? errno : 0;
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  ::execv("/bin/true", argv);
  const int exec_errno = errno;
  std::printf("{\"socket_errno\":%d,\"exec_errno\":%d}\n", socket_errno, exec_errno);
  return 0;
}

// Builds the full jail around the current folder and prints, as JSON on stdout, whether it could:
// {"namespaces": bool, "landlock_abi": N, "detail": "..."}.
int probe_jail() {
  agentrt::sandbox::JailOptions o;
  o.namespaces = agentrt::sandbox::NamespaceMode::Require;
  o.clone_parent = false;  // the jailed process is this one's: it waits for it
  o.keep_fds = {};
  nlohmann::json out;
  try {
    const auto entry = agentrt::sandbox::enter_jail(o);
    if (entry.in_jail) {
      out = {
          {"namespaces", true}, {"landlock_abi", entry.report.landlock_abi}, {"detail", entry.report.note}};
      std::printf("%s\n", dump(out).c_str());
      std::fflush(stdout);
      return 0;
    }
    int status = 0;
    while (::waitpid(entry.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;  // the jailed process printed its answer
    out = {{"namespaces", false},
           {"landlock_abi", agentrt::sandbox::landlock_abi()},
           {"detail", entry.report.note.empty() ? "the jailed process failed" : entry.report.note}};
  } catch (const std::exception& e) {
    out = {{"namespaces", false}, {"landlock_abi", agentrt::sandbox::landlock_abi()}, {"detail", e.what()}};
  }
  std::printf("%s\n", dump(out).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

#if AGENTRT_ADDRESS_SANITIZER
// LeakSanitizer's check at exit stops the process with a helper it clones (no CLONE_THREAD) and ptrace, both
// of which the worker's own seccomp filter refuses, so the check could only fail and lose the worker's
// output. It is off here; the same interpreter code is leak-checked in-process by sandbox_tests. (The worker
// gets no environment from the host, so ASAN_OPTIONS cannot say this.)
extern "C" const char* __asan_default_options() {
  return "detect_leaks=0";
}
#endif

int main(int argc, char** argv) {
  std::string limits_text = "{}";
  std::string jail_text = "{}";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--limits") == 0 && i + 1 < argc) {
      limits_text = argv[++i];
    } else if (std::strcmp(argv[i], "--jail") == 0 && i + 1 < argc) {
      jail_text = argv[++i];
    } else if (std::strcmp(argv[i], "--self-test-filter") == 0) {
      return self_test_filter();
    } else if (std::strcmp(argv[i], "--probe-jail") == 0) {
      return probe_jail();
    } else {
      std::fprintf(stderr,
                   "agentrt-sandbox: the interpreter worker; agentrt starts it (unknown argument %s)\n",
                   argv[i]);
      return 2;
    }
  }
  // Descriptors the host leaked without close-on-exec are not the code's business.
  agentrt::sandbox::close_descriptors_except(kWorkerFd + 1, {});
  std::unique_ptr<agentrt::sandbox::Interpreter> interpreter;
  agentrt::sandbox::JailReport report;
  try {
    const auto limits = parse_limits(limits_text);
    agentrt::sandbox::JailOptions jail =
        agentrt::sandbox::jail_options_from_json(nlohmann::json::parse(jail_text));
    jail.memory_bytes = limits.memory_bytes;
    jail.max_file_bytes = limits.max_file_bytes;
    jail.keep_fds = {kWorkerFd};
    jail.clone_parent = true;
    const auto entry = agentrt::sandbox::enter_jail(jail, [](pid_t pid) {
      agentrt::sandbox::write_frame(kWorkerFd, dump({{"pid", pid}}));
    });
    if (!entry.in_jail) return 0;  // the jailed process, the host's child now, goes on without this one
    report = entry.report;
    interpreter = std::make_unique<agentrt::sandbox::Interpreter>(limits, std::filesystem::current_path());
  } catch (const std::exception& e) {
    agentrt::sandbox::write_frame(kWorkerFd, dump({{"ready", false}, {"error", e.what()}}));
    return 3;
  }
  const nlohmann::json ready = {{"ready", true},
                                {"isolation", agentrt::sandbox::to_string(report.isolation)},
                                {"landlock_abi", report.landlock_abi},
                                {"note", report.note}};
  if (!agentrt::sandbox::write_frame(kWorkerFd, dump(ready))) return 0;
  std::string request;
  while (agentrt::sandbox::read_frame(kWorkerFd, request) == agentrt::sandbox::ReadStatus::Ok) {
    nlohmann::json reply;
    try {
      const auto j = nlohmann::json::parse(request);
      const std::string op = j.value("op", "");
      if (op == "run") {
        const auto timeout =
            std::chrono::milliseconds(j.value("timeout_ms", interpreter->limits().timeout.count()));
        reply = interpreter->run_cell(j.value("code", std::string()), timeout).to_json();
      } else if (op == "reset") {
        interpreter->reset();
        reply = {{"ok", true}};
      } else {
        reply = {{"ok", false}, {"failure", "rejected"}, {"error", "unknown request '" + op + "'"}};
      }
    } catch (const std::exception& e) {
      reply = {{"ok", false}, {"failure", "runtime"}, {"error", std::string("internal error: ") + e.what()}};
    }
    if (!agentrt::sandbox::write_frame(kWorkerFd, dump(reply))) break;
  }
  return 0;
}
