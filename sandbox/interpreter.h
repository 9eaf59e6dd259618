// One Lua 5.4 session inside the current process: the allow-listed environment, the memory cap, the
// instruction and wall-clock hook, the Lua-side libraries, notebook-style cells. The worker process runs one
// of these; the fuzzer and the data tests use it directly. Not thread-safe: one cell at a time.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string_view>

#include "sandbox/cell_result.h"
#include "sandbox/limits.h"

struct lua_State;

namespace agentrt::sandbox {

struct SessionState;

class Interpreter {
 public:
  // `workspace` is created when missing; files the code reads and writes stay inside it.
  Interpreter(const Limits& limits, const std::filesystem::path& workspace);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs one cell. Globals persist between cells; locals do not. The value of a final expression (or of a
  // `return`) comes back formatted in CellResult::value. Never throws for anything the code does.
  CellResult run_cell(std::string_view code, std::chrono::milliseconds timeout);
  CellResult run_cell(std::string_view code) { return run_cell(code, limits_.timeout); }

  // Drops every variable: a fresh state with the same limits and workspace.
  void reset();

  std::size_t memory_used() const;
  const Limits& limits() const { return limits_; }

 private:
  void open();
  void close();

  Limits limits_;
  std::filesystem::path workspace_;
  std::unique_ptr<SessionState> state_;
  lua_State* L_ = nullptr;
};

}  // namespace agentrt::sandbox
