#include "sandbox/interpreter.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include <lua.hpp>

#include "sandbox/environment.h"
#include "sandbox/session_state.h"
#include "sandbox/value_format.h"

namespace agentrt::sandbox {
namespace {

constexpr const char* kChunkName = "=cell";
constexpr std::size_t kMaxErrorBytes = 4096;

// Compiles a cell, preferring a form that returns the value of its final expression: the whole cell as an
// expression, else the cell with `return` before its last line, else the cell as written. Leaves the function
// or the error of the cell as written on the stack.
int compile_cell(lua_State* L, std::string_view code) {
  const std::string as_expression = "return " + std::string(code);
  if (luaL_loadbufferx(L, as_expression.data(), as_expression.size(), kChunkName, "t") == LUA_OK)
    return LUA_OK;
  lua_pop(L, 1);
  const std::size_t end = code.find_last_not_of(" \t\r\n");
  const std::size_t line_start = end == std::string_view::npos ? end : code.rfind('\n', end);
  if (line_start != std::string_view::npos) {
    // The last line must be an expression on its own: "return end" would compile inside a loop and change it.
    const std::string last_line = "return " + std::string(code.substr(line_start + 1));
    const bool is_expression =
        luaL_loadbufferx(L, last_line.data(), last_line.size(), kChunkName, "t") == LUA_OK;
    lua_pop(L, 1);
    if (is_expression) {
      std::string with_return(code.substr(0, line_start + 1));
      with_return += last_line;
      if (luaL_loadbufferx(L, with_return.data(), with_return.size(), kChunkName, "t") == LUA_OK)
        return LUA_OK;
      lua_pop(L, 1);
    }
  }
  return luaL_loadbufferx(L, code.data(), code.size(), kChunkName, "t");
}

// Called in protected mode with the cell's results as arguments; returns them formatted, tab-separated.
int format_results(lua_State* L) {
  const int n = lua_gettop(L);
  bool any = false;
  std::string out;
  for (int i = 1; i <= n; ++i) {
    if (lua_isnil(L, i) && n == 1) break;
    if (i > 1) out += '\t';
    out += format_value(L, i);
    any = true;
  }
  if (!any) out.clear();
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int line_of(const std::string& message) {
  const char* prefix = "cell:";
  if (message.rfind(prefix, 0) != 0) return 0;
  return std::atoi(message.c_str() + std::strlen(prefix));
}

// Splits "message\nstack traceback:\n\t..." into the message and the traceback lines worth showing.
void split_traceback(const std::string& full, CellResult& result) {
  const std::string marker = "\nstack traceback:\n";
  const std::size_t at = full.find(marker);
  result.error = full.substr(0, at);
  if (at == std::string::npos) return;
  std::string lines;
  std::size_t pos = at + marker.size();
  int kept = 0;
  while (pos < full.size() && kept < 12) {
    std::size_t nl = full.find('\n', pos);
    if (nl == std::string::npos) nl = full.size();
    std::string line = full.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find("[C]: in ?") != std::string::npos) continue;
    while (!line.empty() && line.front() == '\t') line.erase(0, 1);
    lines += line + "\n";
    ++kept;
  }
  result.traceback = lines;
}

}  // namespace

Interpreter::Interpreter(const Limits& limits, const std::filesystem::path& workspace)
    : limits_(limits), workspace_(workspace) {
  state_ = std::make_unique<SessionState>(limits_, workspace_);
  open();
}

Interpreter::~Interpreter() {
  close();
}

void Interpreter::open() {
  L_ = lua_newstate(&MemoryBudget::lua_alloc, &state_->budget);
  if (L_ == nullptr) throw std::runtime_error("cannot create a Lua state: the memory limit is too small");
  *static_cast<SessionState**>(lua_getextraspace(L_)) = state_.get();
  try {
    build_environment(L_);
  } catch (...) {
    close();
    throw;
  }
}

void Interpreter::close() {
  if (L_ != nullptr) lua_close(L_);
  L_ = nullptr;
}

void Interpreter::reset() {
  close();
  open();
}

std::size_t Interpreter::memory_used() const {
  return state_->budget.used();
}

CellResult Interpreter::run_cell(std::string_view code, std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  SessionState& s = *state_;
  CellResult result;
  s.output.clear();
  s.output_dropped = 0;
  s.instructions = 0;
  s.stop = StopReason::None;
  s.timeout = timeout;
  s.deadline = start + timeout;
  s.workspace.begin_cell();

  if (code.size() > limits_.max_source_bytes) {
    result.ok = false;
    result.failure = Failure::Rejected;
    result.error = "the code is too long (" + std::to_string(code.size()) + " bytes; the limit is " +
                   std::to_string(limits_.max_source_bytes) + ")";
    return result;
  }

  lua_settop(L_, 0);
  lua_pushcfunction(L_, traceback_handler);
  int status = compile_cell(L_, code);
  if (status != LUA_OK) {
    result.ok = false;
    result.failure = status == LUA_ERRMEM ? Failure::Memory : Failure::Syntax;
    const char* message = lua_tostring(L_, -1);
    result.error = message ? message : "syntax error";
    result.error_line = line_of(result.error);
  } else {
    arm_hook(L_);
    status = lua_pcall(L_, 0, LUA_MULTRET, 1);
    if (status == LUA_OK && lua_gettop(L_) > 1) {
      lua_pushcfunction(L_, format_results);
      lua_insert(L_, 2);
      status = lua_pcall(L_, lua_gettop(L_) - 2, 1, 1);
      if (status == LUA_OK) result.value = lua_tostring(L_, -1);
    }
    if (status != LUA_OK) {
      result.ok = false;
      std::size_t len = 0;
      const char* message = lua_tolstring(L_, -1, &len);
      const std::string full = message ? std::string(message, len) : "unknown error";
      split_traceback(full, result);
      result.error_line = line_of(result.error);
      result.failure = Failure::Runtime;
      if (status == LUA_ERRMEM || result.error.find("not enough memory") != std::string::npos) {
        result.failure = Failure::Memory;
        result.error = "memory limit exceeded: the session may use at most " +
                       std::to_string(limits_.memory_bytes >> 20) + " MB";
        result.traceback.clear();
      }
    }
    if (s.stop != StopReason::None) {
      result.ok = false;
      result.failure = s.stop == StopReason::Timeout ? Failure::Timeout : Failure::Instructions;
      result.error = s.stop == StopReason::Timeout
                         ? "execution timed out after " + std::to_string(timeout.count()) + " ms"
                         : "instruction limit exceeded (" + std::to_string(limits_.max_instructions) +
                               " VM instructions)";
      result.value.clear();
    }
    lua_sethook(L_, nullptr, 0, 0);
  }
  lua_settop(L_, 0);
  if (result.failure == Failure::Memory) lua_gc(L_, LUA_GCCOLLECT);

  result.output = std::move(s.output);
  s.output.clear();
  if (s.output_dropped > 0) {
    result.output_truncated = true;
    result.output += "\n[output truncated: " + std::to_string(s.output_dropped) + " more bytes not shown]\n";
  }
  if (result.error.size() > kMaxErrorBytes) {
    result.error = result.error.substr(0, kMaxErrorBytes) +
                   "... [error message cut: " + std::to_string(result.error.size() - kMaxErrorBytes) +
                   " more bytes]";
  }
  result.files = s.workspace.created();
  result.memory_bytes = s.budget.used();
  result.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace agentrt::sandbox
