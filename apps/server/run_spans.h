// The OpenTelemetry spans of one agent run, in the GenAI semantic conventions' words: a run span
// ("invoke_agent agentrt", gen_ai.operation.name invoke_agent, gen_ai.conversation.id = the session), one
// span per model turn ("turn N"), and under each turn its generation ("chat <model>": gen_ai.request.*,
// gen_ai.usage.input_tokens / output_tokens, gen_ai.response.finish_reasons) and its tool calls
// ("execute_tool <tool>": gen_ai.tool.name, gen_ai.tool.call.id; status ERROR with error.type on failure).
// Built from what the run already reports: its trace events (turn numbers, tool calls with their times) and
// its generations, timed by the backend wrapper that makes them.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/llm_backend.h"
#include "agent/schema.h"
#include "agent/session.h"
#include "apps/server/otlp_protobuf.h"

namespace agentrt::server {

class RunSpanRecorder {
 public:
  using WallClock = std::chrono::system_clock;

  RunSpanRecorder(std::string model, std::string session_id);

  // One generation of the run, as the backend wrapper saw it (`completion` null when it failed).
  void generation(WallClock::time_point start, WallClock::time_point end,
                  const agent::GenerationParams& params, const agent::Completion* completion,
                  const std::string& error);
  // One trace event of the run, as the session emits it.
  void event(const Json& event);
  // The run has ended: all its spans, the run's first.
  std::vector<OtlpSpan> finish(const agent::RunResult& result);

 private:
  struct Generation {
    uint64_t start_ns = 0, end_ns = 0;
    int max_tokens = 0;
    double temperature = 0, top_p = 1;
    int input_tokens = 0, output_tokens = 0;
    std::string finish_reason;
    std::string error;
    std::optional<int> turn;  // set by the first trace event after it
  };
  struct ToolCall {
    std::string tool, call_id, error;
    uint64_t start_ns = 0, end_ns = 0;
    int turn = 0;
  };

  std::mutex mutex_;
  std::string model_;
  std::string session_id_;
  WallClock::time_point start_;
  std::string run_id_;
  std::vector<Generation> generations_;
  std::vector<ToolCall> tools_;
  std::vector<int> turns_;  // in the order first seen
};

}  // namespace agentrt::server
