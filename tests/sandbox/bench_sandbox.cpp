// Sandbox figures: warm cell round trip through the worker (goal p50 <= 1 ms), new session start (goal <= 20
// ms), parse + describe of a 100,000-row CSV inside a cell (goal <= 1 s). Each reports its p50 as a counter.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <vector>

#include "sandbox/sandbox.h"

namespace {

namespace fs = std::filesystem;
using agentrt::sandbox::Session;
using agentrt::sandbox::SessionOptions;

fs::path temp_workspace() {
  std::string pattern = (fs::temp_directory_path() / "agentrt-sandbox-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

SessionOptions options(const fs::path& ws) {
  SessionOptions o;
  o.workspace = ws;
  o.worker = fs::path(AGENTRT_BINARY_DIR) / "bin" / "agentrt-sandbox";
  return o;
}

double p50(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void BM_WarmCellRoundTrip(benchmark::State& state) {
  const fs::path ws = temp_workspace();
  Session s(options(ws));
  s.run("return 0");
  std::vector<double> ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = s.run("return 1+1");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (r.value != "2") state.SkipWithError("wrong result");
  }
  state.counters["p50_ms"] = p50(ms);
  state.counters["goal_ms"] = 1.0;
  fs::remove_all(ws);
}
BENCHMARK(BM_WarmCellRoundTrip)->Unit(benchmark::kMicrosecond);

void BM_NewSessionStart(benchmark::State& state) {
  const fs::path ws = temp_workspace();
  std::vector<double> ms;
  std::optional<Session> s;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    s.emplace(options(ws));
    s->start();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    state.PauseTiming();
    s.reset();  // stopping the worker is not part of starting one
    state.ResumeTiming();
  }
  state.counters["p50_ms"] = p50(ms);
  state.counters["goal_ms"] = 20.0;
  fs::remove_all(ws);
}
BENCHMARK(BM_NewSessionStart)->Unit(benchmark::kMillisecond);

void BM_Csv100kParseDescribe(benchmark::State& state) {
  const fs::path ws = temp_workspace();
  {
    std::ofstream out(ws / "big.csv");
    out << "id,region,units,price,date\n";
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> price(1, 100);
    for (int i = 0; i < 100000; ++i) {
      out << i << ",\"region " << (i % 7) << "\"," << (rng() % 1000) << "," << price(rng) << ",2024-01-"
          << (i % 28 + 1) << "\n";
    }
  }
  Session s(options(ws));
  s.start();
  std::vector<double> ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = s.run("local d = csv.read('big.csv')\nreturn d:describe()");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!r.ok) state.SkipWithError(r.error.c_str());
  }
  state.counters["p50_ms"] = p50(ms);
  state.counters["goal_ms"] = 1000.0;
  fs::remove_all(ws);
}
BENCHMARK(BM_Csv100kParseDescribe)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
