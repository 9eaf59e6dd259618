// Python interpreter figures, measured side by side in one run and interleaved round by round (the machine is
// shared): a cold `/usr/bin/python3 -c 'import pandas, matplotlib'` (the baseline: what a session would cost
// without the zygote, before any jail), a new jailed Python session until it answers (goal p50 <= 50 ms), a
// warm cell round trip `1 + 1` (goal p50 <= 2 ms), the same two for Lua, and 1,000 cells of one session with
// the host's RSS before and after (goal: flat). Prints p50/p99 per measure, the ratios, and how much the
// per-round medians spread.
//   bench_python [--rounds N]      (make bench passes --benchmark_min_time, which is ignored)
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/jail_support.h"
#include "sandbox/sandbox.h"

namespace {

namespace fs = std::filesystem;
using agentrt::sandbox::Language;
using agentrt::sandbox::Session;
using agentrt::sandbox::SessionOptions;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

fs::path temp_workspace() {
  std::string pattern = (fs::temp_directory_path() / "agentrt-bench-python-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

SessionOptions options(const fs::path& ws, Language language) {
  SessionOptions o;
  o.workspace = ws;
  o.worker = fs::path(AGENTRT_BINARY_DIR) / "bin" / "agentrt-sandbox";
  o.language = language;
  o.allow_basic_jail = !agentrt::sandbox::probe_jail_support(o.worker).full();
  return o;
}

// The baseline: a fresh interpreter importing what the zygote keeps warm.
double cold_python_import() {
  const auto t0 = Clock::now();
  char* argv[] = {const_cast<char*>("/usr/bin/python3"), const_cast<char*>("-c"),
                  const_cast<char*>("import pandas, matplotlib"), nullptr};
  char* envp[] = {const_cast<char*>("MPLBACKEND=Agg"), const_cast<char*>("HOME=/tmp"), nullptr};
  pid_t pid = -1;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv, envp) != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return ms_since(t0);
}

double new_session(const fs::path& ws, Language language) {
  const auto t0 = Clock::now();
  Session s(options(ws, language));
  const auto r = s.run(language == Language::Python ? "1 + 1" : "return 1 + 1");
  const double ms = ms_since(t0);
  if (r.value != "2") throw std::runtime_error("a new session answered: " + r.error);
  return ms;
}

std::size_t resident_bytes(const std::string& pid = "self") {
  std::ifstream in("/proc/" + pid + "/statm");
  std::size_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

struct Series {
  std::vector<double> all;
  std::vector<double> round_medians;
  void add_round(const std::vector<double>& v) {
    all.insert(all.end(), v.begin(), v.end());
    round_medians.push_back(percentile(v, 0.5));
  }
};

void report(const char* name, const Series& s, double goal) {
  const double lo = *std::min_element(s.round_medians.begin(), s.round_medians.end());
  const double hi = *std::max_element(s.round_medians.begin(), s.round_medians.end());
  std::printf("%-38s p50 %8.2f ms  p99 %8.2f ms  (n=%zu; round p50s %.2f..%.2f)%s\n", name,
              percentile(s.all, 0.5), percentile(s.all, 0.99), s.all.size(), lo, hi,
              goal > 0 ? (percentile(s.all, 0.5) <= goal ? "  goal met" : "  GOAL MISSED") : "");
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
  }
  const fs::path ws = temp_workspace();
  try {
    const auto support = agentrt::sandbox::probe_jail_support(options(ws, Language::Python).worker);
    std::printf("jail: %s\n", support.describe().c_str());
    // The zygote starts once per program; its start is reported, not counted in the sessions.
    const auto z0 = Clock::now();
    agentrt::sandbox::prepare_worker(Language::Python, options(ws, Language::Python).worker);
    std::printf("python zygote start (once per program): %.0f ms\n", ms_since(z0));

    std::map<std::string, Series> series;
    Session warm_py(options(ws, Language::Python));
    Session warm_lua(options(ws, Language::Lua));
    warm_py.run("0");
    warm_lua.run("return 0");
    for (int round = 0; round < rounds; ++round) {
      std::vector<double> cold, py_new, lua_new, py_cell, lua_cell;
      for (int i = 0; i < 4; ++i) {
        cold.push_back(cold_python_import());
        for (int k = 0; k < 5; ++k) {
          py_new.push_back(new_session(ws, Language::Python));
          lua_new.push_back(new_session(ws, Language::Lua));
        }
        for (int k = 0; k < 50; ++k) {
          auto t0 = Clock::now();
          if (warm_py.run("1 + 1").value != "2") throw std::runtime_error("a warm Python cell failed");
          py_cell.push_back(ms_since(t0));
          t0 = Clock::now();
          if (warm_lua.run("return 1 + 1").value != "2") throw std::runtime_error("a warm Lua cell failed");
          lua_cell.push_back(ms_since(t0));
        }
      }
      series["cold python3 -c 'import pandas, matplotlib'"].add_round(cold);
      series["new Python session, until it answers"].add_round(py_new);
      series["warm Python cell round trip"].add_round(py_cell);
      series["new Lua session, until it answers"].add_round(lua_new);
      series["warm Lua cell round trip"].add_round(lua_cell);
    }
    std::printf("\n%d rounds, interleaved:\n", rounds);
    report("cold python3 -c 'import pandas, matplotlib'",
           series["cold python3 -c 'import pandas, matplotlib'"], 0);
    report("new Python session, until it answers", series["new Python session, until it answers"], 50);
    report("warm Python cell round trip", series["warm Python cell round trip"], 2);
    report("new Lua session, until it answers", series["new Lua session, until it answers"], 0);
    report("warm Lua cell round trip", series["warm Lua cell round trip"], 0);
    const double cold = percentile(series["cold python3 -c 'import pandas, matplotlib'"].all, 0.5);
    const double fresh = percentile(series["new Python session, until it answers"].all, 0.5);
    std::printf(
        "a new jailed Python session starts %.1fx faster than a cold import of pandas and matplotlib\n",
        cold / fresh);

    // 1,000 cells of one session: the host's resident memory before and after.
    Session one(options(ws, Language::Python));
    for (int i = 0; i < 100; ++i) one.run("x = list(range(100))\nsum(x)");
    const std::size_t before = resident_bytes();
    const std::string worker = std::to_string(one.worker_pid());
    const std::size_t worker_before = resident_bytes(worker);
    const auto t0 = Clock::now();
    for (int i = 0; i < 1000; ++i) {
      const auto r = one.run(i % 50 == 0 ? "1 / 0" : "x = list(range(100))\nsum(x)");
      if (r.ok != (i % 50 != 0)) throw std::runtime_error("cell " + std::to_string(i) + " went wrong");
    }
    const double total = ms_since(t0);
    const std::size_t after = resident_bytes();
    const std::size_t worker_after = resident_bytes(worker);
    const auto mb = [](std::size_t b) { return static_cast<double>(b) / (1 << 20); };
    std::printf(
        "1,000 cells of one session: %.0f ms; host RSS %.1f MB before, %.1f MB after (%+.1f MB); "
        "the session's RSS %.1f MB before, %.1f MB after (%+.1f MB)\n",
        total, mb(before), mb(after), mb(after) - mb(before), mb(worker_before), mb(worker_after),
        mb(worker_after) - mb(worker_before));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_python: %s\n", e.what());
    fs::remove_all(ws);
    return 1;
  }
  fs::remove_all(ws);
  return 0;
}
