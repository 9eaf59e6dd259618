// Wall time of an agent turn whose reply makes two slow calls (each tool call sleeps 200 ms, as a slow HTTP
// request would), with the calls running one after another (max_parallel_tools 1, the baseline) and at once
// (the default, 4): the pair takes about the time of one call.
#include <benchmark/benchmark.h>

#include <thread>

#include "agent/backends/backend_scripted.h"
#include "agent/session.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

class SleepTool : public Tool {
 public:
  std::string name() const override { return "fetch"; }
  std::string description() const override { return "Takes 200 ms"; }
  Json parameters() const override { return Json::parse(R"({"type": "object", "properties": {}})"); }
  ToolResult run(const Json&, const ToolContext&) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return ToolResult::success("fetched");
  }
};

void BM_TurnWithTwoSlowCalls(benchmark::State& state) {
  const std::string call =
      "<|action_start|><|plugin|>\n{\"name\": \"fetch\", \"parameters\": {}}<|action_end|>";
  ToolRegistry registry;
  registry.add(std::make_shared<SleepTool>());
  SessionOptions o;
  o.system_prompt = "";
  o.max_parallel_tools = static_cast<int>(state.range(0));
  for (auto _ : state) {
    ScriptedBackend backend({"Both." + call + call, "Done."});
    Session session(backend, registry, o);
    const auto r = session.run("fetch twice");
    if (r.tool_calls != 2) state.SkipWithError("expected two calls");
  }
}
BENCHMARK(BM_TurnWithTwoSlowCalls)
    ->Arg(1)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
