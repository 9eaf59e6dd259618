// The Python worker: Jupyter cell semantics on IPython (state, last value, captured output, trimmed
// tracebacks without colours, deadlines that keep or reset the session), figures saved and described, files
// listed, caps, and the jail it runs in.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "sandbox/jail_support.h"
#include "sandbox/sandbox.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

namespace fs = std::filesystem;
using testing::python_options;
using testing::TempWorkspace;

using testing::read_text;
using testing::status_field;
class PythonSession : public ::testing::Test {
 protected:
  TempWorkspace ws;
  Session session{python_options(ws.path())};
  CellResult run(const std::string& code, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return session.run(code, timeout);
  }
};

TEST_F(PythonSession, StatePersistsAndTheLastExpressionIsTheValue) {
  auto r = run("x = 6\nprint('hello')\nx * 7");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, "hello\n");
  EXPECT_EQ(r.value, "42");
  r = run("x + 1");
  EXPECT_EQ(r.value, "7");
  // A statement gives no value; a trailing ';' hides it as in Jupyter; `_` is the last value.
  EXPECT_EQ(run("y = x").value, "");
  EXPECT_EQ(run("x;").value, "");
  EXPECT_EQ(run("_").value, "7");
  // stderr is captured with stdout, in order.
  r = run("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')");
  EXPECT_EQ(r.output, "a\nb\nc\n");
}

TEST_F(PythonSession, LibrariesAreThereAndRich) {
  auto r = run("from sympy import divisors\nsum(divisors(2024))");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "4320");
  r =
      run("import numpy as np, pandas as pd, scipy.stats\n"
          "df = pd.DataFrame({'a': [1, 2, 3], 'b': [4.0, 5.5, 6.0]})\ndf");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "   a    b\n0  1  4.0\n1  2  5.5\n2  3  6.0");
  EXPECT_EQ(run("float(np.mean(df['b']))").value, "5.166666666666667");
}

TEST_F(PythonSession, ErrorsComeWithATracebackOfTheCellsOwnFrames) {
  ASSERT_TRUE(run("def f(x):\n    return 1 / x").ok);
  const auto r = run("y = 2\nf(0)");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, Failure::Runtime);
  EXPECT_EQ(r.error, "ZeroDivisionError: division by zero");
  EXPECT_EQ(r.error_line, 2);
  EXPECT_EQ(r.traceback,
            "Traceback (most recent call last):\n"
            "  Cell In[2], line 2, in <module>\n"
            "    f(0)\n"
            "  Cell In[1], line 2, in f\n"
            "    return 1 / x\n"
            "           ~~^~~\n"
            "ZeroDivisionError: division by zero\n");
  EXPECT_EQ(r.traceback.find('\x1b'), std::string::npos);
  EXPECT_EQ(run("y").value, "2") << "what ran before the error stays";
}

TEST_F(PythonSession, SyntaxErrorsSayWhere) {
  const auto r = run("x = 1\nif x = 2:\n    pass");
  EXPECT_EQ(r.failure, Failure::Syntax);
  EXPECT_EQ(r.error_line, 2);
  EXPECT_NE(r.error.find("SyntaxError"), std::string::npos) << r.error;
  EXPECT_NE(r.traceback.find("Cell In[1], line 2"), std::string::npos) << r.traceback;
}

TEST_F(PythonSession, ACellPastItsDeadlineStopsAndTheSessionLivesOn) {
  ASSERT_TRUE(run("kept = 'yes'").ok);
  const auto r = run("n = 0\nwhile True:\n    n += 1", std::chrono::milliseconds(300));
  EXPECT_EQ(r.failure, Failure::Timeout);
  EXPECT_FALSE(r.state_reset);
  EXPECT_NE(r.error.find("TimeoutError"), std::string::npos) << r.error;
  EXPECT_NE(r.traceback.find("Cell In[2], line"), std::string::npos) << r.traceback;
  EXPECT_EQ(run("kept").value, "'yes'");
  EXPECT_EQ(run("n > 0").value, "True");
}

TEST_F(PythonSession, CodeThatIgnoresTheDeadlineIsKilledAndTheSessionRestarts) {
  ASSERT_TRUE(run("kept = 1").ok);
  const pid_t first = session.worker_pid();
  const auto r = run("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",
                     std::chrono::milliseconds(300));
  EXPECT_EQ(r.failure, Failure::Killed);
  EXPECT_TRUE(r.state_reset);
  EXPECT_EQ(r.error, kKilledMessage);
  EXPECT_EQ(::kill(first, 0), -1);
  const auto next = run("'kept' in globals(), 6 * 7");
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.value, "(False, 42)");
  EXPECT_EQ(session.workers_started(), 2);
}

TEST_F(PythonSession, OpenFiguresAreSavedAsPngAndSvgWithASummary) {
  const auto r =
      run("import matplotlib.pyplot as plt\n"
          "plt.plot([1, 2, 3, 4], [3, 9, 2, 5], label='north')\n"
          "plt.title('Sales')\n"
          "plt.figure()\n"
          "plt.bar(['a', 'b', 'c'], [5, 1, 3])\n"
          "None");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.files.size(), 4u);
  EXPECT_EQ(r.files[0].path, "figure_1.png");
  EXPECT_EQ(r.files[0].mime, "image/png");
  EXPECT_EQ(r.files[1].path, "figure_1.svg");
  EXPECT_EQ(r.files[2].path, "figure_2.png");
  EXPECT_EQ(r.files[0].summary, "line chart \"Sales\": 'north' 4 points, y from 2 (x=3) to 9 (x=2)");
  EXPECT_EQ(r.files[2].summary, "bar chart: 3 bars; highest 'a' = 5, lowest 'b' = 1, total 9");
  EXPECT_EQ(read_text(ws.path() / "figure_1.png").substr(1, 3), "PNG");
  EXPECT_NE(read_text(ws.path() / "figure_1.svg").find("<svg"), std::string::npos);
  // Saved figures are closed: the next cell saves none again, and the names go on.
  EXPECT_TRUE(run("1").files.empty());
  const auto again = run("plt.pie([1, 3], labels=['x', 'y'])\nNone");
  ASSERT_EQ(again.files.size(), 2u);
  EXPECT_EQ(again.files[0].path, "figure_3.png");
  EXPECT_EQ(again.files[0].summary, "pie chart: 2 slices: x 25.0%, y 75.0%");
}

TEST_F(PythonSession, FilesTheCellWritesAreListedAndTheWorkspaceIsItsFolder) {
  std::ofstream(ws.path() / "data.csv") << "month,units\nJan,5\nFeb,7\n";
  const auto r =
      run("import pandas as pd\nd = pd.read_csv('data.csv')\nd.to_csv('out.csv', index=False)\n"
          "int(d['units'].sum())");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value, "12");
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].path, "out.csv");
  EXPECT_EQ(r.files[0].mime, "text/csv");
  EXPECT_TRUE(fs::exists(ws.path() / "out.csv"));
  EXPECT_EQ(run("import os\nos.getcwd()").value, "'" + fs::canonical(ws.path()).string() + "'");
}

TEST_F(PythonSession, OutputAndMemoryAreCapped) {
  auto r = run("for i in range(100000):\n    print('x' * 100)");
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.output_truncated);
  EXPECT_LT(r.output.size(), std::size_t{300} << 10);
  r = run("big = bytearray(4 << 30)");
  EXPECT_EQ(r.failure, Failure::Memory) << r.error;
  EXPECT_EQ(run("1 + 1").value, "2");
}

TEST_F(PythonSession, ResetForgetsVariablesInTheSameWorker) {
  ASSERT_TRUE(run("v = 1").ok);
  const pid_t pid = session.worker_pid();
  session.reset();
  EXPECT_EQ(run("'v' in globals()").value, "False");
  EXPECT_EQ(session.worker_pid(), pid);
}

TEST_F(PythonSession, RunsInTheFullJail) {
  if (!probe_jail_support(testing::worker_path()).full()) GTEST_SKIP() << "no full jail on this machine";
  session.start();
  EXPECT_EQ(session.isolation(), Isolation::Namespaces);
  const pid_t pid = session.worker_pid();
  EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(pid, "Seccomp"), "2");
  EXPECT_EQ(status_field(pid, "CapEff"), "0000000000000000");
  EXPECT_EQ(status_field(pid, "CapBnd"), "0000000000000000");
  EXPECT_EQ(status_field(pid, "NSpid"), std::to_string(pid) + "\t1");
  const auto r =
      run("import os, socket\n"
          "try:\n    socket.socket()\n    s = 'made'\nexcept OSError as e:\n    s = type(e).__name__\n"
          "top = set(os.listdir('/'))\n"
          "print(os.getuid(), os.getpid(), {'usr', 'proc', 'tmp', 'etc', 'dev'} <= top,\n"
          "      sorted(top & {'root', 'home', 'work', 'boot', 'sys', 'opt', 'srv'}), s)");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, "1000 1 True [] PermissionError\n");
}

TEST(PythonSessions, AreIsolatedFromEachOther) {
  TempWorkspace a_ws, b_ws;
  Session a(python_options(a_ws.path()));
  Session b(python_options(b_ws.path()));
  ASSERT_TRUE(a.run("secret = 'from a'\nopen('mine.txt', 'w').write('a')").ok);
  EXPECT_EQ(b.run("'secret' in globals()").value, "False");
  EXPECT_EQ(b.run("import os\nos.path.exists('mine.txt')").value, "False");
  EXPECT_NE(a.worker_pid(), b.worker_pid());
}

}  // namespace
}  // namespace agentrt::sandbox
