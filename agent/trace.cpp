#include "agent/trace.h"

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace agentrt::agent {

JsonlTraceSink::JsonlTraceSink(const std::filesystem::path& path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr) {
    throw std::runtime_error("cannot open trace file '" + path.string() + "': " + std::strerror(errno));
  }
}

JsonlTraceSink::~JsonlTraceSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void JsonlTraceSink::emit(const Json& event) {
  std::string line = event.dump(-1, ' ', false, Json::error_handler_t::replace);
  line.push_back('\n');
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);  // a crash mid-run keeps every event already emitted
}

void MemoryTraceSink::emit(const Json& event) {
  std::lock_guard lock(mutex_);
  events_.push_back(event);
}

std::vector<Json> MemoryTraceSink::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<Json> MemoryTraceSink::events_of_kind(std::string_view kind) const {
  std::lock_guard lock(mutex_);
  std::vector<Json> out;
  for (const auto& e : events_) {
    if (e.value("kind", "") == kind) out.push_back(e);
  }
  return out;
}

void FanoutTraceSink::emit(const Json& event) {
  for (auto* sink : sinks_) sink->emit(event);
}

Tracer::Tracer(TraceSink* sink, std::string run_id)
    : sink_(sink), run_id_(std::move(run_id)), start_(std::chrono::steady_clock::now()) {}

void Tracer::emit(std::string_view kind, const Json& fields) {
  if (sink_ == nullptr) return;
  auto t_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  Json event{{"run_id", run_id_}, {"turn", turn_}, {"step", step_++}, {"kind", kind},
             {"t_ms", static_cast<long long>(t_ms)}};
  for (auto it = fields.begin(); it != fields.end(); ++it) event[it.key()] = it.value();
  sink_->emit(event);
}

std::string new_run_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  auto v = rng();
  for (int i = 0; i < 16; ++i) id.push_back(hex[(v >> (i * 4)) & 15]);
  return id;
}

}  // namespace agentrt::agent
