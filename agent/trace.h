// Trace events of a run (../shared/spec/architecture.md, "Trace event"): one JSON object per event with
// run_id, turn, step, kind and t_ms, written as they happen so a crash mid-run keeps what already happened.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/schema.h"

namespace agentrt::agent {

// The kinds of trace event; their names are the `kind` field.
namespace trace_kind {
inline constexpr const char* kPlan = "plan";
inline constexpr const char* kThought = "thought";
inline constexpr const char* kSelect = "select";
inline constexpr const char* kArguments = "arguments";
inline constexpr const char* kObservation = "observation";
inline constexpr const char* kReflection = "reflection";
inline constexpr const char* kAnswer = "answer";
inline constexpr const char* kError = "error";
}  // namespace trace_kind

// Appends each event as one line to a file, flushed at once.
class JsonlTraceSink : public TraceSink {
 public:
  // Opens (creates or appends to) `path`; throws std::runtime_error naming the path when it cannot.
  explicit JsonlTraceSink(const std::filesystem::path& path);
  ~JsonlTraceSink() override;
  JsonlTraceSink(const JsonlTraceSink&) = delete;
  JsonlTraceSink& operator=(const JsonlTraceSink&) = delete;
  void emit(const Json& event) override;

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

// Keeps events in memory (tests, the server's run store).
class MemoryTraceSink : public TraceSink {
 public:
  void emit(const Json& event) override;
  std::vector<Json> events() const;
  std::vector<Json> events_of_kind(std::string_view kind) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Json> events_;
};

// Sends each event to several sinks.
class FanoutTraceSink : public TraceSink {
 public:
  void add(TraceSink* sink) { sinks_.push_back(sink); }
  void emit(const Json& event) override;

 private:
  std::vector<TraceSink*> sinks_;
};

// Stamps events of one run with run_id, turn, a running step number and the milliseconds since the run began.
class Tracer {
 public:
  Tracer(TraceSink* sink, std::string run_id);
  void set_turn(int turn) { turn_ = turn; }
  int turn() const { return turn_; }
  // Emits {run_id, turn, step, kind, t_ms, ...fields}; a null sink makes this a no-op.
  void emit(std::string_view kind, const Json& fields = Json::object());
  const std::string& run_id() const { return run_id_; }
  TraceSink* sink() const { return sink_; }

 private:
  TraceSink* sink_;
  std::string run_id_;
  int turn_ = 0;
  int step_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// A fresh random run id (hex).
std::string new_run_id();

}  // namespace agentrt::agent
