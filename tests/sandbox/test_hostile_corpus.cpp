// Runs every program of tests/sandbox/hostile/ through a worker session and checks its expected outcome: each
// is contained with a clear error, the host keeps running, and the session answers the next cell.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "sandbox/sandbox.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

struct Program {
  std::string name;
  std::string code;
  std::string expect;   // a Failure name, or "ok"
  std::string message;  // a substring of the error (or of the value for "ok")
  bool truncated = false;
  std::chrono::milliseconds timeout{
      300};  // "-- timeout-ms: N" for programs that need long to reach their limit
};

std::vector<Program> load_corpus() {
  std::vector<Program> out;
  const auto dir = std::filesystem::path(AGENTRT_SOURCE_DIR) / "tests" / "sandbox" / "hostile";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".lua") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    Program p;
    p.name = entry.path().stem().string();
    p.code = ss.str();
    std::istringstream lines(p.code);
    std::string line;
    while (std::getline(lines, line) && line.rfind("-- ", 0) == 0) {
      if (line.rfind("-- expect: ", 0) == 0) p.expect = line.substr(11);
      if (line.rfind("-- message: ", 0) == 0) p.message = line.substr(12);
      if (line == "-- output: truncated") p.truncated = true;
      if (line.rfind("-- timeout-ms: ", 0) == 0)
        p.timeout = std::chrono::milliseconds(std::stoi(line.substr(15)));
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const Program& a, const Program& b) { return a.name < b.name; });
  return out;
}

TEST(HostileCorpus, HasAtLeastSixtyProgramsAcrossTheCategories) {
  const auto corpus = load_corpus();
  EXPECT_GE(corpus.size(), 60u);
  for (const char* prefix : {"loop_", "mem_", "rec_", "gc_", "pattern_", "esc_", "file_", "flood_"}) {
    EXPECT_TRUE(std::any_of(corpus.begin(), corpus.end(), [&](const Program& p) {
      return p.name.rfind(prefix, 0) == 0;
    })) << prefix;
  }
  for (const auto& p : corpus) EXPECT_FALSE(p.expect.empty()) << p.name << " has no '-- expect:' line";
}

TEST(HostileCorpus, EveryProgramIsContainedWithItsExpectedOutcome) {
  testing::TempWorkspace ws;
  Limits limits = testing::test_limits();
  limits.memory_bytes = std::size_t{32} << 20;
  limits.max_file_bytes = std::size_t{4} << 20;
  Session session(testing::session_options(ws.path(), limits));
  const auto corpus = load_corpus();
  int contained = 0;
  for (const auto& p : corpus) {
    SCOPED_TRACE(p.name);
    const int failures_before =
        ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
    const CellResult r = session.run(p.code, p.timeout * testing::kSanitizerSlowdown);
    const std::string got = r.ok ? "ok" : to_string(r.failure);
    EXPECT_EQ(got, p.expect) << "error: " << r.error << "\nvalue: " << r.value.substr(0, 200);
    if (!p.message.empty()) {
      const std::string& where = r.ok ? r.value : r.error;
      EXPECT_NE(where.find(p.message), std::string::npos)
          << "'" << p.message << "' not in: " << where.substr(0, 300);
    }
    if (!r.ok) {
      EXPECT_FALSE(r.error.empty());
    }
    EXPECT_EQ(r.output_truncated, p.truncated);
    EXPECT_EQ(r.state_reset, p.expect == "killed");
    // Whatever happened, the session answers the next cell.
    const CellResult after = session.run("return 6 * 7");
    EXPECT_TRUE(after.ok) << after.error;
    EXPECT_EQ(after.value, "42");
    session.reset();
    if (::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count() ==
        failures_before)
      ++contained;
  }
  std::printf("hostile Lua corpus: %d/%zu programs contained as expected (isolation: %s)\n", contained,
              corpus.size(), to_string(session.isolation()));
  EXPECT_FALSE(std::filesystem::exists(ws.path().parent_path() / "escape.txt"));
  EXPECT_FALSE(std::filesystem::exists(ws.path().parent_path() / "evil.svg"));
}

}  // namespace
}  // namespace agentrt::sandbox
