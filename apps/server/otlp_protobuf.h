// OpenTelemetry spans as OTLP/HTTP sends them: an ExportTraceServiceRequest in protobuf binary
// (opentelemetry-proto: collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto,
// resource/v1/resource.proto). Only what the server exports is written: resource and scope attributes, and
// spans with ids, parent, name, kind, times, attributes and status. The wire format is checked by decoding it
// with the OpenTelemetry project's own definitions (tests/server/otlp/receiver.mjs).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace agentrt::server {

struct OtlpAttribute {
  std::string key;
  std::variant<std::string, bool, int64_t, double, std::vector<std::string>> value;
};

// SpanKind of trace.proto.
enum class OtlpSpanKind : int { Internal = 1, Server = 2, Client = 3 };

struct OtlpSpan {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::array<uint8_t, 8> parent_span_id{};
  bool has_parent = false;
  std::string name;
  OtlpSpanKind kind = OtlpSpanKind::Internal;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  std::vector<OtlpAttribute> attributes;
  bool error = false;          // Status code ERROR (else UNSET)
  std::string status_message;  // with error
};

struct OtlpScope {
  std::string name;
  std::string version;
};

// One ExportTraceServiceRequest: one ResourceSpans (the resource's attributes) with one ScopeSpans.
std::string encode_export_request(const std::vector<OtlpSpan>& spans,
                                  const std::vector<OtlpAttribute>& resource, const OtlpScope& scope);

}  // namespace agentrt::server
