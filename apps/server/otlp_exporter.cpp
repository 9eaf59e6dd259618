#include "apps/server/otlp_exporter.h"

#include <httplib.h>

#include <stdexcept>

namespace agentrt::server {

OtlpExporter::OtlpExporter(OtlpExporterOptions options) : options_(std::move(options)) {
  const std::string& url = options_.endpoint;
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw std::invalid_argument("--otlp-endpoint '" + url + "' must be http(s)://host[:port][/path]");
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  scheme_host_port_ = url.substr(0, path_start);
  path_ = path_start == std::string::npos ? "" : url.substr(path_start);
  if (scheme_host_port_.size() <= scheme.size() + 3) {
    throw std::invalid_argument("--otlp-endpoint '" + url + "' names no host");
  }
  while (!path_.empty() && path_.back() == '/') path_.pop_back();
  // A base URL gets the traces signal's path, as OTEL_EXPORTER_OTLP_ENDPOINT does.
  if (path_.size() < 10 || path_.compare(path_.size() - 10, 10, "/v1/traces") != 0) path_ += "/v1/traces";
  thread_ = std::thread([this] { loop(); });
}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void OtlpExporter::export_spans(std::vector<OtlpSpan> spans) {
  size_t refused = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& s : spans) {
      if (queue_.size() >= options_.max_queue_spans) {
        ++refused;
      } else {
        queue_.push_back(std::move(s));
      }
    }
  }
  dropped_ += static_cast<long long>(refused);
  wake_.notify_all();
}

void OtlpExporter::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (!stopping_ && queue_.size() < options_.batch_spans) {
      // Let a batch gather: more runs may end in a moment.
      wake_.wait_for(lock, options_.linger,
                     [&] { return stopping_ || queue_.size() >= options_.batch_spans; });
    }
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    const size_t n = std::min(queue_.size(), options_.batch_spans);
    std::vector<OtlpSpan> batch(std::make_move_iterator(queue_.begin()),
                                std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    const bool last = stopping_ && queue_.empty();
    lock.unlock();
    if (send(batch)) {
      exported_ += static_cast<long long>(batch.size());
    } else {
      ++failed_requests_;
      dropped_ += static_cast<long long>(batch.size());
    }
    lock.lock();
    if (last) return;
    if (stopping_) {
      // Shutting down: what is left after a failure is dropped rather than tried again and again.
      if (failed_requests_ > 0) {
        dropped_ += static_cast<long long>(queue_.size());
        queue_.clear();
        return;
      }
    }
  }
}

bool OtlpExporter::send(const std::vector<OtlpSpan>& batch) {
  const std::string body = encode_export_request(
      batch, {OtlpAttribute{"service.name", options_.service_name}}, OtlpScope{"agentrt.agent", "1"});
  httplib::Client client(scheme_host_port_);
  client.set_connection_timeout(options_.timeout);
  client.set_read_timeout(options_.timeout);
  client.set_write_timeout(options_.timeout);
  const auto result = client.Post(path_, body, "application/x-protobuf");
  return result && result->status >= 200 && result->status < 300;
}

std::string OtlpExporter::metrics_text() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, long long value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(value) + "\n";
  };
  counter("agentrt_otlp_spans_exported_total", "Spans the OTLP collector accepted.", exported());
  counter("agentrt_otlp_spans_dropped_total",
          "Spans dropped: the export queue was full, or the collector was down or refused them.", dropped());
  counter("agentrt_otlp_export_failures_total", "OTLP export requests that failed.", failed_requests());
  return out;
}

}  // namespace agentrt::server
