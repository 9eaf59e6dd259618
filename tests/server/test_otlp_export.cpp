// --otlp-endpoint: each agent run leaves the server as OpenTelemetry spans over OTLP/HTTP. The receiver
// (otlp/receiver.mjs) decodes them with the OpenTelemetry project's own protobuf definitions, so what is
// checked here is what a real collector would read: the run → turn → generation / tool-call tree, the GenAI
// semantic-convention attributes, and the counter of spans dropped when the collector is down (runs never
// wait for it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "apps/server/otlp_protobuf.h"
#include "server_harness.h"
#include "tests/apps/cli_runner.h"

namespace agentrt::testing {
namespace {

const std::filesystem::path kOtlpDir = std::filesystem::path(AGENTRT_SOURCE_DIR) / "tests/server/otlp";

std::string plugin_call(const std::string& expression) {
  return "<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": \"" +
         expression + "\"}}<|action_end|>";
}

// The receiver, as a background node process writing what it decodes to a file.
class Receiver {
 public:
  Receiver() {
    const auto dir = fresh_dir("otlp");
    out_ = dir / "spans.jsonl";
    const auto log = dir / "receiver.log";
    const auto r = run_shell("cd '" + kOtlpDir.string() + "' && OUT='" + out_.string() +
                             "' nohup node receiver.mjs > '" + log.string() + "' 2>&1 & echo $!");
    pid_ = std::atoi(r.out.c_str());
    for (int i = 0; i < 3000 && port_ == 0; ++i) {  // node may take seconds to start on a busy machine
      std::ifstream in(log);
      std::string word;
      if (in >> word && word == "listening") in >> port_;
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Receiver() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  int port() const { return port_; }
  // Every request decoded so far.
  std::vector<Json> requests() const {
    std::vector<Json> out;
    std::ifstream in(out_);
    for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
    return out;
  }
  // Waits (30 s at most) until `n` spans have arrived; returns them.
  std::vector<Json> spans(size_t n) const {
    std::vector<Json> all;
    for (int i = 0; i < 3000; ++i) {
      all.clear();
      for (const auto& r : requests()) {
        for (const auto& s : r.value("spans", Json::array())) all.push_back(s);
      }
      if (all.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return all;
  }

 private:
  std::filesystem::path out_;
  int pid_ = 0;
  int port_ = 0;
};

std::string otlp_missing() {
  if (std::system("command -v node > /dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(kOtlpDir / "node_modules/@opentelemetry/otlp-transformer/package.json")) {
    return "tests/server/otlp/node_modules is missing: run scripts/setup-npm-otlp";
  }
  return "";
}

const Json* find_span(const std::vector<Json>& spans, const std::string& name) {
  for (const auto& s : spans) {
    if (s["name"] == name) return &s;
  }
  return nullptr;
}

unsigned long long nanos(const Json& s, const char* field) {
  return std::stoull(s[field].get<std::string>());
}

TEST(OtlpExport, EachRunArrivesAsATreeOfGenAiSpans) {
  if (const auto why = otlp_missing(); !why.empty()) GTEST_SKIP() << why;
  Receiver receiver;
  ASSERT_GT(receiver.port(), 0) << "the receiver did not start";
  server::ServerOptions o;
  o.otlp_endpoint = "http://127.0.0.1:" + std::to_string(receiver.port());
  o.otlp_service_name = "agentrt-test";
  o.tools.builtin = {"calculator"};
  ScriptedServer s({"Two sums." + plugin_call("6*7") + plugin_call("1/0"), "42, and 1/0 has no value."}, o);
  auto c = s.client();
  int status = 0;
  const Json run = post_json(c, "/v1/agent/runs", Json{{"task", "6*7 and 1/0?"}, {"stream", false}}, &status);
  ASSERT_EQ(status, 200) << run.dump();

  // run + 2 turns + 2 generations + 2 tool calls.
  const auto spans = receiver.spans(7);
  ASSERT_EQ(spans.size(), 7u) << Json(spans).dump(1);
  for (const auto& r : receiver.requests()) {
    EXPECT_FALSE(r.contains("error")) << r.dump();
    EXPECT_TRUE(r["roundTrip"].get<bool>()) << "the official encoder writes other bytes for what it decoded";
  }
  const Json* root = find_span(spans, "invoke_agent agentrt");
  ASSERT_NE(root, nullptr);
  const std::string trace_id = (*root)["traceId"];
  EXPECT_EQ(trace_id.size(), 32u);
  EXPECT_EQ((*root)["parentSpanId"], "");
  EXPECT_EQ((*root)["spanId"], run["run_id"]);  // the run span's id is the run id
  EXPECT_EQ((*root)["resource"]["service.name"], "agentrt-test");
  EXPECT_EQ((*root)["scope"], "agentrt.agent");
  const Json& ra = (*root)["attributes"];
  EXPECT_EQ(ra["gen_ai.operation.name"], "invoke_agent");
  EXPECT_EQ(ra["gen_ai.conversation.id"], run["session_id"]);
  EXPECT_EQ(ra["agentrt.tool_calls"], 2);
  for (const auto& span : spans) {
    EXPECT_EQ(span["traceId"], trace_id);
    EXPECT_LE(nanos(span, "start"), nanos(span, "end")) << span.dump();
    EXPECT_GE(nanos(span, "start"), nanos(*root, "start")) << span.dump();
    EXPECT_LE(nanos(span, "end"), nanos(*root, "end")) << span.dump();
  }
  for (const char* turn : {"turn 1", "turn 2"}) {
    const Json* t = find_span(spans, turn);
    ASSERT_NE(t, nullptr) << turn;
    EXPECT_EQ((*t)["parentSpanId"], (*root)["spanId"]);
    std::vector<std::string> children;
    for (const auto& span : spans) {
      if (span["parentSpanId"] != (*t)["spanId"]) continue;
      children.push_back(span["name"]);
      EXPECT_GE(nanos(span, "start"), nanos(*t, "start"));
      EXPECT_LE(nanos(span, "end"), nanos(*t, "end"));
    }
    std::sort(children.begin(), children.end());
    if (std::string(turn) == "turn 1") {
      EXPECT_EQ(children, (std::vector<std::string>{"chat agentrt", "execute_tool calculator",
                                                    "execute_tool calculator"}));
    } else {
      EXPECT_EQ(children, (std::vector<std::string>{"chat agentrt"}));
    }
  }
  int generations = 0, failed_tools = 0;
  for (const auto& span : spans) {
    const Json& a = span["attributes"];
    if (a["gen_ai.operation.name"] == "chat") {
      ++generations;
      EXPECT_EQ(span["kind"], "SPAN_KIND_CLIENT");
      EXPECT_EQ(a["gen_ai.request.model"], "agentrt");
      EXPECT_EQ(a["gen_ai.request.max_tokens"], 1024);
      EXPECT_GT(a["gen_ai.usage.output_tokens"].get<int>(), 0);
      EXPECT_TRUE(a.contains("gen_ai.usage.input_tokens"));
      EXPECT_EQ(a["gen_ai.response.finish_reasons"], Json::array({"stop"}));
    }
    if (a["gen_ai.operation.name"] == "execute_tool") {
      EXPECT_EQ(a["gen_ai.tool.name"], "calculator");
      EXPECT_EQ(a["gen_ai.tool.call.id"].get<std::string>().rfind("call_", 0), 0u);
      if (span["status"]["code"] == "STATUS_CODE_ERROR") {
        ++failed_tools;
        EXPECT_EQ(a["error.type"], "tool_error");
        EXPECT_FALSE(span["status"]["message"].get<std::string>().empty());
      }
    }
  }
  EXPECT_EQ(generations, 2);
  EXPECT_EQ(failed_tools, 1);  // 1/0
  // The exporter counts a batch once the collector's answer is in, just after the receiver wrote it down.
  std::string metrics;
  for (int i = 0; i < 3000; ++i) {
    metrics = c.Get("/metrics")->body;
    if (metric(metrics, "agentrt_otlp_spans_exported_total") >= 7) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(metric(metrics, "agentrt_otlp_spans_exported_total"), 7) << metrics;
  EXPECT_EQ(metric(metrics, "agentrt_otlp_spans_dropped_total"), 0) << metrics;
}

TEST(OtlpExport, ACollectorThatIsDownCostsSpansNotRuns) {
  // A port nothing listens on: bound once to learn a free number, then closed.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  ::close(fd);
  const int port = ntohs(address.sin_port);
  server::ServerOptions o;
  o.otlp_endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
  o.tools.builtin = {"calculator"};
  ScriptedServer s({"Sum." + plugin_call("2+2"), "4.", "Sum." + plugin_call("3+3"), "6."}, o);
  auto c = s.client();
  for (int i = 0; i < 2; ++i) {
    int status = 0;
    const Json run = post_json(c, "/v1/agent/runs", Json{{"task", "sum"}, {"stream", false}}, &status);
    ASSERT_EQ(status, 200) << run.dump();
    EXPECT_TRUE(run["error"].is_null()) << run.dump();
  }
  // 2 runs × (run + 2 turns + 2 generations + 1 tool call), dropped once the export has been tried.
  std::string metrics;
  for (int i = 0; i < 3000; ++i) {
    metrics = c.Get("/metrics")->body;
    if (metric(metrics, "agentrt_otlp_spans_dropped_total") >= 12) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(metric(metrics, "agentrt_otlp_spans_dropped_total"), 12) << metrics;
  EXPECT_EQ(metric(metrics, "agentrt_otlp_spans_exported_total"), 0) << metrics;
  EXPECT_GE(metric(metrics, "agentrt_otlp_export_failures_total"), 1) << metrics;
}

TEST(OtlpExport, ABadEndpointIsRefusedAtStart) {
  server::ServerOptions o;
  o.otlp_endpoint = "collector:4318";
  EXPECT_THROW(ScriptedServer({}, o), std::invalid_argument);
}

TEST(OtlpProtobuf, WritesTheWireFormatByHand) {
  // Field numbers and wire types of trace.proto, spelled out once for the smallest request: what the
  // receiver test decodes with the official definitions in full.
  server::OtlpSpan span;
  span.trace_id[15] = 1;
  span.span_id[7] = 2;
  span.name = "x";
  span.start_unix_nano = 1;
  span.end_unix_nano = 2;
  const std::string bytes = server::encode_export_request({span}, {}, {"s", ""});
  // ExportTraceServiceRequest.resource_spans (1, length-delimited) ...
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), (1u << 3) | 2u);
  // ... and somewhere the span's name (5) and start time (7, fixed64 = 1).
  EXPECT_NE(bytes.find(std::string("\x2a\x01x", 3)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x39\x01\0\0\0\0\0\0\0", 9)), std::string::npos);
}

}  // namespace
}  // namespace agentrt::testing
