#include "sandbox/cell_result.h"

#include <array>
#include <utility>

namespace agentrt::sandbox {
namespace {
constexpr std::array<std::pair<Failure, const char*>, 9> kFailureNames = {{
    {Failure::None, "none"},
    {Failure::Syntax, "syntax"},
    {Failure::Runtime, "runtime"},
    {Failure::Memory, "memory"},
    {Failure::Timeout, "timeout"},
    {Failure::Instructions, "instructions"},
    {Failure::Killed, "killed"},
    {Failure::Crashed, "crashed"},
    {Failure::Rejected, "rejected"},
}};
}  // namespace

const char* to_string(Failure failure) {
  for (const auto& [f, name] : kFailureNames) {
    if (f == failure) return name;
  }
  return "none";
}

Failure failure_from_string(const std::string& text) {
  for (const auto& [f, name] : kFailureNames) {
    if (text == name) return f;
  }
  return Failure::Runtime;
}

nlohmann::json CellResult::to_json() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& f : files) {
    files_json.push_back({{"path", f.path}, {"mime", f.mime}, {"summary", f.summary}, {"bytes", f.bytes}});
  }
  return {{"ok", ok},
          {"failure", to_string(failure)},
          {"output", output},
          {"output_truncated", output_truncated},
          {"value", value},
          {"error", error},
          {"error_line", error_line},
          {"traceback", traceback},
          {"files", files_json},
          {"state_reset", state_reset},
          {"duration_ms", duration_ms},
          {"memory_bytes", memory_bytes}};
}

CellResult CellResult::from_json(const nlohmann::json& j) {
  CellResult r;
  r.ok = j.value("ok", false);
  r.failure = failure_from_string(j.value("failure", std::string("runtime")));
  r.output = j.value("output", std::string());
  r.output_truncated = j.value("output_truncated", false);
  r.value = j.value("value", std::string());
  r.error = j.value("error", std::string());
  r.error_line = j.value("error_line", 0);
  r.traceback = j.value("traceback", std::string());
  if (j.contains("files") && j["files"].is_array()) {
    for (const auto& f : j["files"]) {
      r.files.push_back({f.value("path", std::string()), f.value("mime", std::string()),
                         f.value("summary", std::string()), f.value("bytes", std::size_t{0})});
    }
  }
  r.state_reset = j.value("state_reset", false);
  r.duration_ms = j.value("duration_ms", 0.0);
  r.memory_bytes = j.value("memory_bytes", std::size_t{0});
  return r;
}

}  // namespace agentrt::sandbox
