// Runs every program of tests/sandbox/hostile_py/ through a Python session and checks its expected
// containment: the outcome ("ok" with the program's own verdict, or how the cell failed), no secret of the
// host in anything that came back, the host alive and the session answering the next cell. Canary files are
// planted beside the workspace (another session's workspace, a server database, a folder of the host's) and
// checked afterwards: nothing outside the workspace was read into a reply or written.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "sandbox/sandbox.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

namespace fs = std::filesystem;

struct Program {
  std::string name;
  std::string code;
  std::string expect;   // "ok" or a Failure name; "a|b" where either is a containment (a C stack overflow)
  std::string message;  // a substring of what came back (value, output or error); "a|b": either
  bool truncated = false;
  bool reset = false;  // "# state: reset": the session's variables are gone afterwards
  std::chrono::milliseconds timeout{3000};
};

using testing::read_text;
std::vector<Program> load_corpus() {
  std::vector<Program> out;
  for (const auto& entry :
       fs::directory_iterator(fs::path(AGENTRT_SOURCE_DIR) / "tests" / "sandbox" / "hostile_py")) {
    if (entry.path().extension() != ".py") continue;
    Program p;
    p.name = entry.path().stem().string();
    p.code = read_text(entry.path());
    std::istringstream lines(p.code);
    for (std::string line; std::getline(lines, line) && line.rfind("# ", 0) == 0;) {
      if (line.rfind("# expect: ", 0) == 0) p.expect = line.substr(10);
      if (line.rfind("# message: ", 0) == 0) p.message = line.substr(11);
      if (line == "# output: truncated") p.truncated = true;
      if (line == "# state: reset") p.reset = true;
      if (line.rfind("# timeout-ms: ", 0) == 0)
        p.timeout = std::chrono::milliseconds(std::stoi(line.substr(14)));
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const Program& a, const Program& b) { return a.name < b.name; });
  return out;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

std::vector<std::string> alternatives(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, '|');) out.push_back(part);
  return out;
}

bool any_of_in(const std::string& alternatives_text, const std::string& haystack) {
  const auto parts = alternatives(alternatives_text);
  return std::any_of(parts.begin(), parts.end(),
                     [&](const std::string& a) { return haystack.find(a) != std::string::npos; });
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

TEST(HostilePythonCorpus, HasAHundredProgramsAcrossTheCategories) {
  const auto corpus = load_corpus();
  EXPECT_GE(corpus.size(), 100u);
  for (const char* prefix : {"fs_", "net_", "sys_", "proc_", "mem_", "rec_", "loop_", "flood_", "fig_",
                             "pickle_", "marshal_", "imp_"}) {
    EXPECT_TRUE(std::any_of(corpus.begin(), corpus.end(), [&](const Program& p) {
      return p.name.rfind(prefix, 0) == 0;
    })) << prefix;
  }
  const std::set<std::string> outcomes = {"ok",     "runtime", "memory", "timeout",
                                          "killed", "crashed", "syntax"};
  for (const auto& p : corpus) {
    for (const auto& e : alternatives(p.expect))
      EXPECT_TRUE(outcomes.count(e)) << p.name << " has no valid '# expect:' line";
    EXPECT_FALSE(alternatives(p.expect).empty()) << p.name;
    EXPECT_FALSE(p.message.empty()) << p.name << " says no '# message:' to look for";
  }
}

// The corpus runs in kShards parts, each its own test (ctest runs them side by side) with its own session,
// workspace and canaries; the secret is one per process, since the zygote keeps the environment it started
// with.
constexpr int kShards = 4;

const std::string& process_secret() {
  static const std::string secret = [] {
    std::mt19937_64 rng(std::random_device{}());
    const std::string s = "agentrt-canary-" + std::to_string(rng());
    ::setenv("AGENTRT_HOSTILE_CANARY", s.c_str(), 1);
    return s;
  }();
  return secret;
}

class HostilePythonShard : public ::testing::TestWithParam<int> {};

TEST_P(HostilePythonShard, EveryProgramIsContainedAndNothingOutsideTheWorkspaceChanges) {
  const int shard = GetParam();
  testing::TempWorkspace root;
  const fs::path ws = root.path() / "ws", other = root.path() / "other_ws", canary = root.path() / "canary";
  const fs::path db = root.path() / "agentrt.db";
  const std::string& secret = process_secret();
  std::mt19937_64 rng(std::random_device{}());
  const std::string token = std::to_string(rng());
  fs::create_directories(ws);
  fs::create_directories(other);
  fs::create_directories(canary);
  std::ofstream(other / "canary.txt") << "another session's file: " << secret;
  std::ofstream(canary / "canary.txt") << "the host's file: " << secret;
  std::ofstream(db, std::ios::binary) << std::string("SQLite format 3\0", 16) << secret;
  const auto before = std::make_tuple(read_text(other / "canary.txt"), read_text(canary / "canary.txt"),
                                      read_text(db), fs::last_write_time(canary / "canary.txt"));

  Limits limits;
  limits.memory_bytes = std::size_t{256} << 20;
  limits.max_total_written_bytes = std::size_t{32} << 20;
  Session session(testing::python_options(ws, limits));
  const auto corpus = load_corpus();
  int contained = 0, run = 0;
  for (std::size_t i = static_cast<std::size_t>(shard); i < corpus.size(); i += kShards) {
    const Program& p = corpus[i];
    SCOPED_TRACE(p.name);
    ++run;
    std::string code = p.code;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"{{HOST_PID}}", std::to_string(::getpid())},
             {"{{DB}}", db.string()},
             {"{{OTHER_WS}}", other.string()},
             {"{{CANARY_DIR}}", canary.string()},
             {"{{WS}}", fs::canonical(ws).string()},
             {"{{TOKEN}}", token},
             {"{{SECRET_VAR}}", "AGENTRT_HOSTILE_CANARY"},
             {"{{HOST_SOURCE}}", std::string(AGENTRT_SOURCE_DIR) + "/sandbox/python/agentrt_cell.py"}}) {
      code = replace_all(code, from, to);
    }
    const CellResult r = session.run(code, p.timeout * testing::kSanitizerSlowdown);
    // Slow programs are named (information only: nothing here depends on how long a program took).
    if (r.duration_ms > 2000) std::printf("  %s took %.0f ms\n", p.name.c_str(), r.duration_ms);
    const std::string got = r.ok ? "ok" : to_string(r.failure);
    const std::string said = r.value + "\n" + r.output + "\n" + r.error;
    bool ok = true;
    auto check = [&](bool condition, const std::string& what) {
      EXPECT_TRUE(condition) << p.name << ": " << what << "\nvalue: " << r.value.substr(0, 300)
                             << "\nerror: " << r.error.substr(0, 300)
                             << "\noutput: " << r.output.substr(0, 300);
      ok = ok && condition;
    };
    const auto allowed = alternatives(p.expect);
    check(std::find(allowed.begin(), allowed.end(), got) != allowed.end(),
          "outcome " + got + ", expected " + p.expect);
    check(any_of_in(p.message, said), "'" + p.message + "' not in what came back");
    check(r.output_truncated == p.truncated, "output_truncated differs");
    check(r.state_reset == (p.reset || got == "killed" || got == "crashed"), "state_reset differs");
    check((said + r.traceback).find(secret) == std::string::npos, "the host's secret came back");
    // Whatever happened, the session answers the next cell.
    const CellResult after = session.run("6 * 7", std::chrono::seconds(20));
    check(after.ok && after.value == "42", "the next cell failed: " + after.error);
    session.reset();
    contained += ok ? 1 : 0;
    for (const auto& e : fs::directory_iterator(ws)) fs::remove_all(e.path());
  }
  std::printf("hostile Python corpus, part %d of %d: %d/%d programs contained as expected\n", shard + 1,
              kShards, contained, run);
  EXPECT_EQ(contained, run);
  // Nothing outside the workspace was written.
  EXPECT_EQ(std::make_tuple(read_text(other / "canary.txt"), read_text(canary / "canary.txt"), read_text(db),
                            fs::last_write_time(canary / "canary.txt")),
            before);
  EXPECT_EQ(names_in(root.path()), (std::set<std::string>{"agentrt.db", "canary", "other_ws", "ws"}));
  EXPECT_EQ(names_in(other), std::set<std::string>{"canary.txt"});
  EXPECT_EQ(names_in(canary), std::set<std::string>{"canary.txt"});
  EXPECT_FALSE(fs::exists("/tmp/agentrt-escape-" + token + ".txt"));
  EXPECT_FALSE(fs::exists("/etc/agentrt-escape"));
  EXPECT_FALSE(fs::exists("/agentrt-escape"));
  EXPECT_FALSE(fs::exists("/dev/shm/agentrt-escape"));
  // And a brand-new session works.
  testing::TempWorkspace fresh;
  Session next(testing::python_options(fresh.path()));
  EXPECT_EQ(next.run("sum(range(10))", std::chrono::seconds(20)).value, "45");
}

INSTANTIATE_TEST_SUITE_P(Parts, HostilePythonShard, ::testing::Range(0, kShards));

}  // namespace
}  // namespace agentrt::sandbox
