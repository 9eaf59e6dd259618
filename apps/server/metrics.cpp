#include "apps/server/metrics.h"

#include <cstdio>
#include <sstream>

namespace agentrt::server {
namespace {

// Label values escape backslash, double quote and newline (exposition format).
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::ostringstream& out, const std::string& name, const std::string& help, const char* type) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void labelled_counter(std::ostringstream& out, const std::string& name, const std::string& help,
                      const std::string& label, const std::map<std::string, long long>& values) {
  header(out, name, help, "counter");
  for (const auto& [k, v] : values)
    out << name << '{' << label << "=\"" << label_value(k) << "\"} " << v << '\n';
}

}  // namespace

void ServerMetrics::count_request(const std::string& route, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
}

void ServerMetrics::count_error(const std::string& type) {
  std::lock_guard lock(mutex_);
  ++errors_[type];
}

void ServerMetrics::count_generation(const std::string& outcome, long long prompt_tokens,
                                     long long completion_tokens) {
  std::lock_guard lock(mutex_);
  ++generations_[outcome];
  prompt_tokens_ += prompt_tokens;
  completion_tokens_ += completion_tokens;
}

void ServerMetrics::observe_time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  ttft_sum_ += seconds;
  ++ttft_count_;
}

void ServerMetrics::count_agent_run(const std::string& outcome) {
  std::lock_guard lock(mutex_);
  ++agent_runs_[outcome];
}

std::string ServerMetrics::render(const ServedModel& model) const {
  std::ostringstream out;
  {
    std::lock_guard lock(mutex_);
    header(out, "agentrt_http_requests_total", "HTTP requests answered, by route and status code.",
           "counter");
    for (const auto& [key, v] : requests_) {
      out << "agentrt_http_requests_total{route=\"" << label_value(key.first) << "\",code=\"" << key.second
          << "\"} " << v << '\n';
    }
    labelled_counter(out, "agentrt_errors_total", "Requests that ended in an error, by error type.", "type",
                     errors_);
    labelled_counter(out, "agentrt_generations_total", "Model generations, by how they ended.", "outcome",
                     generations_);
    labelled_counter(out, "agentrt_agent_runs_total", "Agent runs, by how they ended.", "outcome",
                     agent_runs_);
    header(out, "agentrt_prompt_tokens_total",
           "Prompt tokens of finished generations (as the backend counts them).", "counter");
    out << "agentrt_prompt_tokens_total " << prompt_tokens_ << '\n';
    header(out, "agentrt_completion_tokens_total", "Tokens generated.", "counter");
    out << "agentrt_completion_tokens_total " << completion_tokens_ << '\n';
    header(out, "agentrt_time_to_first_token_seconds",
           "Time from a request's arrival to its first generated text.", "summary");
    out << "agentrt_time_to_first_token_seconds_sum " << number(ttft_sum_) << '\n';
    out << "agentrt_time_to_first_token_seconds_count " << ttft_count_ << '\n';
  }
  header(out, "agentrt_requests_waiting", "Generations queued for the model.", "gauge");
  out << "agentrt_requests_waiting " << model.waiting() << '\n';
  header(out, "agentrt_requests_running", "Generations running now.", "gauge");
  out << "agentrt_requests_running " << model.running() << '\n';
  for (const auto& g : model.engine_gauges()) {
    header(out, g.name, g.help, "gauge");
    out << g.name << ' ' << number(g.value) << '\n';
  }
  return out.str();
}

}  // namespace agentrt::server
