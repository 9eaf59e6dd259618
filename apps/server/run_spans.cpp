#include "apps/server/run_spans.h"

#include <algorithm>
#include <random>

namespace agentrt::server {
namespace {

uint64_t unix_nanos(RunSpanRecorder::WallClock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

template <size_t N>
std::array<uint8_t, N> random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, N> id{};
  for (auto& b : id) b = static_cast<uint8_t>(rng());
  if (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) id[0] = 1;  // all-zero is invalid
  return id;
}

// The run id (16 hex digits) as the run span's id, so traces and the server's own records meet.
std::array<uint8_t, 8> span_id_of(const std::string& run_id) {
  std::array<uint8_t, 8> id{};
  if (run_id.size() != 16) return random_id<8>();
  for (size_t i = 0; i < 8; ++i) {
    const auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    id[i] = static_cast<uint8_t>(hex(run_id[2 * i]) * 16 + hex(run_id[2 * i + 1]));
  }
  return id;
}

OtlpAttribute attr(std::string key, std::string value) {
  return {std::move(key), std::move(value)};
}
OtlpAttribute attr(std::string key, int64_t value) {
  return {std::move(key), value};
}

std::string clipped(const std::string& text) {
  constexpr size_t kMax = 256;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

}  // namespace

RunSpanRecorder::RunSpanRecorder(std::string model, std::string session_id)
    : model_(std::move(model)), session_id_(std::move(session_id)), start_(WallClock::now()) {}

void RunSpanRecorder::generation(WallClock::time_point start, WallClock::time_point end,
                                 const agent::GenerationParams& params, const agent::Completion* completion,
                                 const std::string& error) {
  Generation g;
  g.start_ns = unix_nanos(start);
  g.end_ns = unix_nanos(end);
  g.max_tokens = params.max_tokens;
  g.temperature = params.temperature;
  g.top_p = params.top_p;
  if (completion != nullptr) {
    g.input_tokens = completion->prompt_tokens;
    g.output_tokens = completion->completion_tokens;
    g.finish_reason = completion->finish_reason;
  }
  g.error = error;
  std::lock_guard lock(mutex_);
  generations_.push_back(std::move(g));
}

void RunSpanRecorder::event(const Json& e) {
  std::lock_guard lock(mutex_);
  if (run_id_.empty()) run_id_ = e.value("run_id", "");
  const int turn = e.value("turn", 0);
  if (std::find(turns_.begin(), turns_.end(), turn) == turns_.end()) turns_.push_back(turn);
  // A turn's events come after its generation.
  for (auto& g : generations_) {
    if (!g.turn) g.turn = turn;
  }
  if (e.value("kind", "") != agent::trace_kind::kObservation) return;
  ToolCall t;
  t.tool = e.value("tool", "");
  t.call_id = e.value("call_id", "");
  t.turn = turn;
  const auto at = [&](const char* field) {
    return unix_nanos(start_) + static_cast<uint64_t>(e.value(field, 0LL)) * uint64_t{1000000};
  };
  t.start_ns = at("t_start_ms");
  t.end_ns = std::max(at("t_end_ms"), t.start_ns);
  if (!e.value("ok", true)) t.error = clipped(e.value("text", ""));
  tools_.push_back(std::move(t));
}

std::vector<OtlpSpan> RunSpanRecorder::finish(const agent::RunResult& result) {
  std::lock_guard lock(mutex_);
  const uint64_t end_ns = std::max(unix_nanos(WallClock::now()), unix_nanos(start_));
  const auto trace_id = random_id<16>();
  if (run_id_.empty()) run_id_ = result.run_id;
  const int last_turn = turns_.empty() ? 1 : turns_.back();
  for (auto& g : generations_) {
    if (!g.turn) g.turn = last_turn;
    if (std::find(turns_.begin(), turns_.end(), *g.turn) == turns_.end()) turns_.push_back(*g.turn);
  }

  std::vector<OtlpSpan> spans;
  OtlpSpan run;
  run.trace_id = trace_id;
  run.span_id = span_id_of(run_id_);
  run.name = "invoke_agent agentrt";
  run.start_unix_nano = unix_nanos(start_);
  run.end_unix_nano = end_ns;
  run.attributes = {attr("gen_ai.operation.name", "invoke_agent"),
                    attr("gen_ai.agent.name", "agentrt"),
                    attr("gen_ai.provider.name", "agentrt"),
                    attr("gen_ai.conversation.id", session_id_),
                    attr("gen_ai.request.model", model_),
                    attr("agentrt.run_id", run_id_),
                    attr("agentrt.turns", static_cast<int64_t>(result.turns)),
                    attr("agentrt.tool_calls", static_cast<int64_t>(result.tool_calls)),
                    OtlpAttribute{"agentrt.forced_answer", result.forced_answer},
                    OtlpAttribute{"agentrt.cancelled", result.cancelled}};
  if (!result.error.empty()) {
    run.error = true;
    run.status_message = clipped(result.error);
    run.attributes.push_back(attr("error.type", "backend_error"));
  }
  spans.push_back(run);

  for (const int turn : turns_) {
    OtlpSpan t;
    t.trace_id = trace_id;
    t.span_id = random_id<8>();
    t.parent_span_id = run.span_id;
    t.has_parent = true;
    t.name = turn == 0 ? "plan" : "turn " + std::to_string(turn);
    t.attributes = {attr("agentrt.turn", static_cast<int64_t>(turn))};
    uint64_t first = UINT64_MAX, last = 0;
    std::vector<OtlpSpan> children;
    for (const auto& g : generations_) {
      if (*g.turn != turn) continue;
      OtlpSpan s;
      s.trace_id = trace_id;
      s.span_id = random_id<8>();
      s.parent_span_id = t.span_id;
      s.has_parent = true;
      s.name = "chat " + model_;
      s.kind = OtlpSpanKind::Client;
      s.start_unix_nano = g.start_ns;
      s.end_unix_nano = g.end_ns;
      s.attributes = {attr("gen_ai.operation.name", "chat"),
                      attr("gen_ai.provider.name", "agentrt"),
                      attr("gen_ai.request.model", model_),
                      attr("gen_ai.request.max_tokens", static_cast<int64_t>(g.max_tokens)),
                      OtlpAttribute{"gen_ai.request.temperature", g.temperature},
                      OtlpAttribute{"gen_ai.request.top_p", g.top_p}};
      if (g.error.empty()) {
        s.attributes.push_back(attr("gen_ai.response.model", model_));
        s.attributes.push_back(attr("gen_ai.usage.input_tokens", static_cast<int64_t>(g.input_tokens)));
        s.attributes.push_back(attr("gen_ai.usage.output_tokens", static_cast<int64_t>(g.output_tokens)));
        s.attributes.push_back(
            OtlpAttribute{"gen_ai.response.finish_reasons", std::vector<std::string>{g.finish_reason}});
      } else {
        s.error = true;
        s.status_message = clipped(g.error);
        s.attributes.push_back(attr("error.type", "backend_error"));
      }
      children.push_back(std::move(s));
    }
    for (const auto& call : tools_) {
      if (call.turn != turn) continue;
      OtlpSpan s;
      s.trace_id = trace_id;
      s.span_id = random_id<8>();
      s.parent_span_id = t.span_id;
      s.has_parent = true;
      s.name = "execute_tool " + call.tool;
      s.start_unix_nano = call.start_ns;
      s.end_unix_nano = call.end_ns;
      s.attributes = {attr("gen_ai.operation.name", "execute_tool"), attr("gen_ai.tool.name", call.tool),
                      attr("gen_ai.tool.call.id", call.call_id), attr("gen_ai.tool.type", "function")};
      if (!call.error.empty()) {
        s.error = true;
        s.status_message = call.error;
        s.attributes.push_back(attr("error.type", "tool_error"));
      }
      children.push_back(std::move(s));
    }
    for (const auto& c : children) {
      first = std::min(first, c.start_unix_nano);
      last = std::max(last, c.end_unix_nano);
    }
    // A turn with nothing timed in it (cancelled at once) spans an instant at the run's end.
    t.start_unix_nano = first == UINT64_MAX ? end_ns : first;
    t.end_unix_nano = std::max(last, t.start_unix_nano);
    spans.push_back(std::move(t));
    for (auto& c : children) spans.push_back(std::move(c));
  }
  // Every span inside the run's own interval.
  for (auto& s : spans) {
    spans.front().start_unix_nano = std::min(spans.front().start_unix_nano, s.start_unix_nano);
    spans.front().end_unix_nano = std::max(spans.front().end_unix_nano, s.end_unix_nano);
  }
  return spans;
}

}  // namespace agentrt::server
