// What one cell produced, as the worker reports it and the host, the tool and the CLI read it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentrt::sandbox {

// A file a cell wrote into the workspace (fs.write, csv.write, chart.*).
struct CreatedFile {
  std::string path;     // relative to the workspace
  std::string mime;     // "image/svg+xml", "image/png", "text/csv", ...
  std::string summary;  // for charts: what the picture shows, in words; otherwise empty
  std::size_t bytes = 0;
};

// Why a cell did not finish normally.
enum class Failure {
  None,
  Syntax,        // the code did not compile
  Runtime,       // a Lua error (error(), a failed operation, a library refusing its input)
  Memory,        // the memory cap
  Timeout,       // the wall clock, seen by the interpreter itself (state kept)
  Instructions,  // the instruction cap (state kept)
  Killed,        // the host killed the worker at the deadline (state reset)
  Crashed,       // the worker died on its own (state reset)
  Rejected,      // refused before running (source too large, bad request)
};
const char* to_string(Failure failure);
Failure failure_from_string(const std::string& text);

struct CellResult {
  bool ok = true;
  Failure failure = Failure::None;
  std::string output;  // what print() wrote, possibly cut (output_truncated)
  bool output_truncated = false;
  std::string value;      // the last expression's value(s), formatted; empty when none
  std::string error;      // the message, e.g. "cell:3: attempt to index a nil value (global 'x')"
  int error_line = 0;     // line in the cell, 0 when unknown
  std::string traceback;  // Lua stack traceback lines for runtime errors
  std::vector<CreatedFile> files;
  bool state_reset = false;  // the session's variables are gone (worker killed or restarted)
  double duration_ms = 0;
  std::size_t memory_bytes = 0;  // the session's memory after the cell

  nlohmann::json to_json() const;
  static CellResult from_json(const nlohmann::json& j);
};

}  // namespace agentrt::sandbox
