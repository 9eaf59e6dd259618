// The server's counters and gauges, rendered in the Prometheus text exposition format (version 0.0.4) on
// /metrics: requests by route and status, tokens, generations by outcome, time to first token, queue depth,
// errors by type, and whatever gauges the served model's engine reports (KV cache use, prefix-cache hits).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "apps/server/served_model.h"

namespace agentrt::server {

class ServerMetrics {
 public:
  void count_request(const std::string& route, int status);
  void count_error(const std::string& type);
  // One generation ended: its outcome ("stop", "length", "cancelled", "tool_calls", "error") and token
  // counts.
  void count_generation(const std::string& outcome, long long prompt_tokens, long long completion_tokens);
  void observe_time_to_first_token(double seconds);
  void count_agent_run(const std::string& outcome);

  // The whole exposition, with the model's queue and engine gauges read now.
  std::string render(const ServedModel& model) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, long long> requests_;
  std::map<std::string, long long> errors_;
  std::map<std::string, long long> generations_;
  std::map<std::string, long long> agent_runs_;
  long long prompt_tokens_ = 0;
  long long completion_tokens_ = 0;
  double ttft_sum_ = 0;
  long long ttft_count_ = 0;
};

}  // namespace agentrt::server
