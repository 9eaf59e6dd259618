#include "apps/server/otlp_protobuf.h"

#include <cstring>

namespace agentrt::server {
namespace {

// Protobuf wire types.
enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

class Writer {
 public:
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(uint32_t field, Wire wire) { varint((static_cast<uint64_t>(field) << 3) | wire); }
  void bytes(uint32_t field, const void* data, size_t size) {
    tag(field, kLengthDelimited);
    varint(size);
    out_.append(static_cast<const char*>(data), size);
  }
  void string(uint32_t field, const std::string& s) { bytes(field, s.data(), s.size()); }
  void message(uint32_t field, const Writer& inner) { string(field, inner.out_); }
  void fixed64(uint32_t field, uint64_t v) {
    tag(field, kFixed64);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void int64(uint32_t field, int64_t v) {
    tag(field, kVarint);
    varint(static_cast<uint64_t>(v));  // int64: two's complement, ten bytes when negative
  }
  void enumeration(uint32_t field, int v) {
    tag(field, kVarint);
    varint(static_cast<uint64_t>(static_cast<int64_t>(v)));
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// common.proto AnyValue: string_value = 1, bool_value = 2, int_value = 3, double_value = 4, array_value = 5
// (ArrayValue: repeated AnyValue values = 1).
Writer any_value(const OtlpAttribute& a) {
  Writer v;
  if (const auto* s = std::get_if<std::string>(&a.value)) {
    v.string(1, *s);
  } else if (const auto* b = std::get_if<bool>(&a.value)) {
    v.tag(2, kVarint);
    v.varint(*b ? 1 : 0);
  } else if (const auto* i = std::get_if<int64_t>(&a.value)) {
    v.int64(3, *i);
  } else if (const auto* d = std::get_if<double>(&a.value)) {
    uint64_t bits = 0;
    std::memcpy(&bits, d, sizeof bits);
    v.fixed64(4, bits);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&a.value)) {
    Writer array;
    for (const auto& item : *list) {
      Writer element;
      element.string(1, item);
      array.message(1, element);
    }
    v.message(5, array);
  }
  return v;
}

// KeyValue: key = 1, value = 2.
void attributes(Writer& w, uint32_t field, const std::vector<OtlpAttribute>& list) {
  for (const auto& a : list) {
    Writer kv;
    kv.string(1, a.key);
    kv.message(2, any_value(a));
    w.message(field, kv);
  }
}

// trace.proto Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6, start_time_unix_nano =
// 7 (fixed64), end_time_unix_nano = 8 (fixed64), attributes = 9, status = 15 (Status: message = 2, code = 3;
// STATUS_CODE_ERROR = 2).
Writer span(const OtlpSpan& s) {
  Writer w;
  w.bytes(1, s.trace_id.data(), s.trace_id.size());
  w.bytes(2, s.span_id.data(), s.span_id.size());
  if (s.has_parent) w.bytes(4, s.parent_span_id.data(), s.parent_span_id.size());
  w.string(5, s.name);
  w.enumeration(6, static_cast<int>(s.kind));
  w.fixed64(7, s.start_unix_nano);
  w.fixed64(8, s.end_unix_nano);
  attributes(w, 9, s.attributes);
  if (s.error) {
    Writer status;
    if (!s.status_message.empty()) status.string(2, s.status_message);
    status.enumeration(3, 2);
    w.message(15, status);
  }
  return w;
}

}  // namespace

// ExportTraceServiceRequest: resource_spans = 1. ResourceSpans: resource = 1 (Resource: attributes = 1),
// scope_spans = 2. ScopeSpans: scope = 1 (InstrumentationScope: name = 1, version = 2), spans = 2.
std::string encode_export_request(const std::vector<OtlpSpan>& spans,
                                  const std::vector<OtlpAttribute>& resource, const OtlpScope& scope) {
  Writer res;
  attributes(res, 1, resource);
  Writer sc;
  sc.string(1, scope.name);
  if (!scope.version.empty()) sc.string(2, scope.version);
  Writer scope_spans;
  scope_spans.message(1, sc);
  for (const auto& s : spans) scope_spans.message(2, span(s));
  Writer resource_spans;
  resource_spans.message(1, res);
  resource_spans.message(2, scope_spans);
  Writer request;
  request.message(1, resource_spans);
  return request.str();
}

}  // namespace agentrt::server
