// The per-session state the interpreter and the Lua-side libraries share: caps, memory budget, workspace, the
// current cell's output and clock. One lives behind each lua_State (its extra space points to it).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <lua.hpp>

#include "sandbox/limits.h"
#include "sandbox/memory_budget.h"
#include "sandbox/workspace.h"

namespace agentrt::sandbox {

enum class StopReason { None, Timeout, Instructions };

struct SessionState {
  SessionState(const Limits& l, const std::filesystem::path& workspace_root)
      : limits(l), budget(l.memory_bytes), workspace(workspace_root, limits) {}

  Limits limits;
  MemoryBudget budget;
  Workspace workspace;

  // The current cell.
  std::string output;
  std::size_t output_dropped = 0;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout{0};
  std::uint64_t instructions = 0;
  StopReason stop = StopReason::None;
  int chart_counter = 0;

  // Appends print() text, keeping at most limits.max_output_bytes.
  void append_output(std::string_view text) {
    const std::size_t room =
        output.size() < limits.max_output_bytes ? limits.max_output_bytes - output.size() : 0;
    const std::size_t take = text.size() < room ? text.size() : room;
    output.append(text.data(), take);
    output_dropped += text.size() - take;
  }
};

// The session behind any thread of the state.
inline SessionState& session_of(lua_State* L) {
  return **static_cast<SessionState**>(lua_getextraspace(L));
}

}  // namespace agentrt::sandbox
