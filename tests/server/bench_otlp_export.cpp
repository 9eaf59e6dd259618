// What exporting runs as OpenTelemetry spans costs a run: agent runs (two turns, one calculator call) through
// two in-process servers on the same scripted model, one exporting to a collector (an in-process OTLP/HTTP
// stand-in that accepts every batch) and one not, taken alternately so that a busy machine weighs on both
// alike (and in alternating order). Counters: milliseconds per run without and with export, their ratio,
// spans exported per run, and export requests per run (batching).
#include <benchmark/benchmark.h>

#include <chrono>
#include <thread>

#include "server_harness.h"

using namespace agentrt;
using namespace agentrt::testing;

namespace {

const std::string kCall =
    "Let me compute.<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": "
    "\"6*7\"}}<|action_end|>";

void BM_AgentRunExportCost(benchmark::State& state) {
  httplib::Server collector;
  long long batches = 0;
  collector.Post("/v1/traces", [&](const httplib::Request&, httplib::Response& res) {
    ++batches;
    res.set_content("", "application/x-protobuf");
  });
  const int port = collector.bind_to_any_port("127.0.0.1");
  std::thread collecting([&] { collector.listen_after_bind(); });

  const size_t runs = static_cast<size_t>(state.max_iterations) + 1;
  std::vector<std::string> replies;
  for (size_t i = 0; i < runs; ++i) {
    replies.push_back(kCall);
    replies.push_back("It is 42.");
  }
  server::ServerOptions plain;
  plain.tools.builtin = {"calculator"};
  server::ServerOptions exporting = plain;
  exporting.otlp_endpoint = "http://127.0.0.1:" + std::to_string(port);
  ScriptedServer off(replies, plain), on(replies, exporting);
  auto c_off = off.client(), c_on = on.client();
  const Json run{{"task", "What is 6*7?"}, {"stream", false}};
  double off_s = 0, on_s = 0;
  auto timed = [&](httplib::Client& c) {
    const auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    post_json(c, "/v1/agent/runs", run, &status);
    if (status != 200) state.SkipWithError("a run failed");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  bool off_first = true;  // the order alternates too: whichever goes second may find caches warm
  for (auto _ : state) {
    if (off_first) {
      off_s += timed(c_off);
      on_s += timed(c_on);
    } else {
      on_s += timed(c_on);
      off_s += timed(c_off);
    }
    off_first = !off_first;
  }
  // Spans handed over are exported within the exporter's linger; wait for the last batch before counting.
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    metrics = c_on.Get("/metrics")->body;
    if (metric(metrics, "agentrt_otlp_spans_exported_total") >= 6.0 * static_cast<double>(state.iterations()))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["ms_per_run_without"] = 1000 * off_s / n;
  state.counters["ms_per_run_with"] = 1000 * on_s / n;
  state.counters["ratio"] = on_s / off_s;
  state.counters["spans_per_run"] = metric(metrics, "agentrt_otlp_spans_exported_total") / n;
  state.counters["requests_per_run"] = static_cast<double>(batches) / n;
  collector.stop();
  collecting.join();
}
BENCHMARK(BM_AgentRunExportCost)
    ->Iterations(300)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
