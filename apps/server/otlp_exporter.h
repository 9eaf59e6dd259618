// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP (protobuf, POST {endpoint}/v1/traces)
// from a thread of its own: a run hands its spans over and goes on, never waiting for the network. Spans are
// batched (up to kBatchSpans per request, sent kLinger after the first of a batch arrives); when the queue is
// full or the collector cannot be reached or refuses a batch, those spans are dropped and counted
// (agentrt_otlp_spans_dropped_total on /metrics), never retried at the cost of a run.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apps/server/otlp_protobuf.h"

namespace agentrt::server {

struct OtlpExporterOptions {
  // The collector's base URL (http://host:4318), or the full traces URL (…/v1/traces), as
  // OTEL_EXPORTER_OTLP_ENDPOINT / _TRACES_ENDPOINT are written.
  std::string endpoint;
  std::string service_name = "agentrt";
  size_t max_queue_spans = 8192;
  size_t batch_spans = 512;
  std::chrono::milliseconds linger{200};
  std::chrono::milliseconds timeout{5000};  // connect and read, per request
};

class OtlpExporter {
 public:
  // Throws std::invalid_argument for an endpoint that is not http(s)://host[:port][/path].
  explicit OtlpExporter(OtlpExporterOptions options);
  // Sends what is queued (one last try, within the timeout) and stops the thread.
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues the spans of one run; never blocks on the network. Spans beyond the queue's room are dropped.
  void export_spans(std::vector<OtlpSpan> spans);

  long long exported() const { return exported_.load(); }
  long long dropped() const { return dropped_.load(); }
  long long failed_requests() const { return failed_requests_.load(); }
  // The exporter's counters in Prometheus text format.
  std::string metrics_text() const;

 private:
  void loop();
  bool send(const std::vector<OtlpSpan>& batch);

  OtlpExporterOptions options_;
  std::string scheme_host_port_;
  std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<OtlpSpan> queue_;  // guarded by mutex_
  bool stopping_ = false;       // guarded by mutex_
  std::atomic<long long> exported_{0}, dropped_{0}, failed_requests_{0};
  std::thread thread_;
};

}  // namespace agentrt::server
