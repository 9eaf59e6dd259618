// A progress bar on stderr for long loads and writes; silent when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace agentrt::engine {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  // Redraws at most a few times a second, and always at the end.
  void update(uint64_t done, uint64_t total);
  void finish();
  static bool stderr_is_terminal();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

std::string format_bytes(uint64_t bytes);

}  // namespace agentrt::engine
