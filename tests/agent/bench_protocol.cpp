// Throughput of the streaming action parser and the renderer, each beside a baseline that does the least work
// of the same kind (a plain scan for "<|" / "[UNUSED" over the same bytes; concatenating the same turn strings),
// so the figures read as ratios on whatever machine runs them.
#include <benchmark/benchmark.h>

#include <cstring>

#include "agent/action_parser.h"
#include "agent/renderer.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

// ~256 KiB of realistic model output: thoughts in English and Chinese, plugin and interpreter calls.
const std::string& corpus() {
  static const std::string text = [] {
    std::string t;
    for (int i = 0; t.size() < 256 * 1024; ++i) {
      t += "Let me work out step " + std::to_string(i) + " of the task; 我需要先查一下数据，然后计算结果。 ";
      t += "The previous result was " + std::to_string(i * 37) + ", which is within the expected range < 10^6. ";
      if (i % 2 == 0) {
        t += "<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": \"" +
             std::to_string(i) + " * 1.05 ** 12\"}}<|action_end|>";
      } else {
        t += "<|action_start|><|interpreter|>\n```lua\nlocal t = {}\nfor k = 1, " + std::to_string(i) +
             " do t[#t + 1] = k * k end\nreturn stats.mean(t)\n```<|action_end|>";
      }
    }
    return t;
  }();
  return text;
}

void BM_ParserStreaming(benchmark::State& state) {
  const std::string& text = corpus();
  const size_t chunk = static_cast<size_t>(state.range(0));
  size_t actions = 0;
  for (auto _ : state) {
    ActionParser p;
    for (size_t i = 0; i < text.size(); i += chunk) p.feed_text(std::string_view(text).substr(i, chunk));
    p.finish();
    actions = p.reply().actions.size();
    benchmark::DoNotOptimize(actions);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["actions"] = static_cast<double>(actions);
}
BENCHMARK(BM_ParserStreaming)->Arg(4)->Arg(64)->Arg(1 << 20);

// Baseline: find every "<|" and "[UNUSED" in the same chunks, nothing else.
void BM_BaselineMarkerScan(benchmark::State& state) {
  const std::string& text = corpus();
  const size_t chunk = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    size_t hits = 0;
    for (size_t i = 0; i < text.size(); i += chunk) {
      std::string_view piece = std::string_view(text).substr(i, chunk);
      for (size_t p = piece.find("<|"); p != std::string_view::npos; p = piece.find("<|", p + 1)) ++hits;
      for (size_t p = piece.find("[UNUSED"); p != std::string_view::npos; p = piece.find("[UNUSED", p + 1)) ++hits;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_BaselineMarkerScan)->Arg(4)->Arg(64)->Arg(1 << 20);

// The engine's case: one token id per chunk (~4 bytes of text each), markers decided by id.
void BM_ParserTokenIds(benchmark::State& state) {
  const std::string& text = corpus();
  std::vector<TokenChunk> chunks;
  const auto ids = internlm2_marker_ids();
  for (size_t i = 0; i < text.size();) {
    bool marker = false;
    for (const auto& [id, m] : ids) {
      auto sp = text_of(m);
      if (m != Marker::Bos && m != Marker::Eos && text.compare(i, sp.size(), sp) == 0) {
        chunks.push_back({std::string(sp), {id}});
        i += sp.size();
        marker = true;
        break;
      }
    }
    if (!marker) {
      size_t n = std::min<size_t>(4, text.size() - i);
      while (n > 1 && text.compare(i, 2, "<|") != 0 && text.find("<|", i) < i + n) --n;
      chunks.push_back({text.substr(i, n), {1000}});
      i += n;
    }
  }
  for (auto _ : state) {
    ActionParser p(ids);
    for (const auto& c : chunks) p.feed(c);
    p.finish();
    benchmark::DoNotOptimize(p.reply().actions.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["chunks"] = static_cast<double>(chunks.size());
}
BENCHMARK(BM_ParserTokenIds);

std::vector<Message> history_of(int turns) {
  std::vector<Message> h;
  h.push_back({Role::System, "", "You are a careful assistant.", {}, ""});
  h.push_back({Role::User, "", "Analyse the sales data and tell me which region grew fastest.", {}, ""});
  for (int i = 0; i < turns; ++i) {
    Action a;
    a.name = "calculator";
    a.arguments = Json{{"expression", "(1200 - " + std::to_string(900 + i) + ") / " + std::to_string(900 + i)}};
    a.id = "call_" + std::to_string(i);
    h.push_back({Role::Assistant, "", "Next I compute the growth of region " + std::to_string(i) + ".", {a}, ""});
    h.push_back({Role::Environment, "plugin", std::to_string(0.3 - i * 0.001), {}, a.id});
  }
  return h;
}

RenderOptions render_options() {
  RenderOptions o;
  o.tools = Json::parse(R"([{"name": "calculator", "description": "Evaluates an arithmetic expression exactly",
    "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}},
    {"name": "search", "description": "Searches local documents", "parameters": {"type": "object",
    "properties": {"query": {"type": "string"}, "top_k": {"type": "integer"}}, "required": ["query"]}}])");
  return o;
}

void BM_Render50TurnHistory(benchmark::State& state) {
  const auto h = history_of(static_cast<int>(state.range(0)));
  const auto opts = render_options();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string p = render_prompt(h, opts);
    bytes = p.size();
    benchmark::DoNotOptimize(p);
  }
  state.counters["prompt_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_Render50TurnHistory)->Arg(50)->Unit(benchmark::kMicrosecond);

// Baseline: concatenating pre-formatted turn strings of the same total size.
void BM_BaselineConcat50Turns(benchmark::State& state) {
  const std::string reference = render_prompt(history_of(static_cast<int>(state.range(0))), render_options());
  std::vector<std::string> pieces;
  for (size_t i = 0; i < reference.size(); i += 120) pieces.push_back(reference.substr(i, 120));
  for (auto _ : state) {
    std::string p;
    for (const auto& s : pieces) p += s;
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reference.size()));
}
BENCHMARK(BM_BaselineConcat50Turns)->Arg(50)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
