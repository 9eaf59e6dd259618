#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "agent/action_parser.h"
#include "agent/backends/tool_call_constraint.h"
#include "agent/schema_validator.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

// A small vocabulary with the protocol markers at the end, multi-byte pieces, a byte-fallback-like lone UTF-8
// lead byte, and tokens that mix string content with structure.
struct Vocab {
  std::vector<std::string> bytes;
  std::vector<bool> control;
  MarkerIds markers;
  int32_t add(std::string b, bool is_control = false) {
    bytes.push_back(std::move(b));
    control.push_back(is_control);
    return static_cast<int32_t>(bytes.size() - 1);
  }
};

Vocab make_vocab() {
  Vocab v;
  v.add("", true);  // <unk>
  v.add("", true);  // <s>
  v.add("", true);  // </s>
  for (int c = 0x20; c < 0x7f; ++c) v.add(std::string(1, static_cast<char>(c)));
  for (const char* piece : {"\n",
                            "{\"",
                            "\":",
                            " \"",
                            "\",",
                            "\"}",
                            "}}",
                            "name",
                            "parameters",
                            "calculator",
                            "search",
                            "expression",
                            "query",
                            "top_k",
                            "source",
                            "local",
                            "web",
                            "the",
                            " weather",
                            "2+2",
                            "12",
                            "\"\\n",
                            "\xE4\xB8\xAD",
                            "\xE4",
                            "\xB8",
                            "\xAD",
                            "\"}}",
                            " \"name\": \"",
                            "\", \"parameters\": {\""}) {
    v.add(piece);
  }
  v.markers[v.add("<|action_start|>", true)] = Marker::ActionStart;
  v.markers[v.add("<|plugin|>", true)] = Marker::Plugin;
  v.markers[v.add("<|interpreter|>", true)] = Marker::Interpreter;
  v.markers[v.add("<|action_end|>", true)] = Marker::ActionEnd;
  v.markers[v.add("<|im_end|>", true)] = Marker::ImEnd;
  return v;
}

const Json kTools = Json::parse(R"([
  {"name": "calculator", "parameters": {"type": "object", "properties": {"expression": {"type": "string"}},
                                        "required": ["expression"]}},
  {"name": "search", "parameters": {"type": "object", "properties": {"query": {"type": "string"},
      "top_k": {"type": "integer"}, "source": {"type": "string", "enum": ["local", "web"]}}, "required": ["query"]}}
])");

int32_t id_of(const Vocab& v, Marker m) {
  for (const auto& [id, mk] : v.markers) {
    if (mk == m) return id;
  }
  return -1;
}

}  // namespace

// With random logits (a model that knows nothing), every call the constrained sampler produces parses and
// fits its tool's schema; without the constraint nearly none does.
TEST(ToolCallConstraint, RandomModelMakesOnlyValidCalls) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const int32_t start = id_of(v, Marker::ActionStart), end = id_of(v, Marker::ActionEnd);
  int valid_constrained = 0, valid_free = 0;
  const int trials = 60;
  for (int trial = 0; trial < trials; ++trial) {
    for (bool constrained : {true, false}) {
      ToolCallConstraint c(index, kTools, v.markers);
      std::string text = "<|action_start|><|plugin|>";
      c.accept(start);
      c.accept(id_of(v, Marker::Plugin));
      bool closed = false;
      for (int step = 0; step < 400 && !closed; ++step) {
        std::vector<float> logits(v.bytes.size());
        for (auto& l : logits) l = noise(rng);
        // A nudge towards closing quotes and braces so strings end in reasonable time.
        for (size_t i = 0; i < v.bytes.size(); ++i) {
          if (v.bytes[i].find_first_of("\"}") != std::string::npos) logits[i] += 1.5f;
        }
        logits[static_cast<size_t>(end)] += 3.0f;
        if (constrained) c.process(logits);
        int32_t best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        ASSERT_TRUE(std::isfinite(logits[static_cast<size_t>(best)]));
        c.accept(best);
        text += v.control[static_cast<size_t>(best)] ? std::string(v.bytes[static_cast<size_t>(best)])
                                                     : v.bytes[static_cast<size_t>(best)];
        closed = best == end;
      }
      auto reply = ActionParser::parse(text);
      bool valid = false;
      if (reply.actions.size() == 1 && reply.actions[0].valid && reply.actions[0].closed) {
        for (const auto& t : kTools) {
          if (t["name"] == reply.actions[0].name) {
            valid = validate_against_schema(t["parameters"], reply.actions[0].arguments).empty();
          }
        }
      }
      if (constrained) {
        EXPECT_TRUE(valid) << text;
        valid_constrained += valid;
      } else {
        valid_free += valid;
      }
    }
  }
  EXPECT_EQ(valid_constrained, trials);
  EXPECT_LT(valid_free, trials / 10);
}

TEST(ToolCallConstraint, OnlyActsInsidePluginCalls) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  ToolCallConstraint c(index, kTools, v.markers);
  std::vector<float> logits(v.bytes.size(), 1.0f);
  c.process(logits);
  for (float l : logits) EXPECT_EQ(l, 1.0f);  // free text is untouched
  c.accept(id_of(v, Marker::ActionStart));
  c.process(logits);
  for (size_t i = 0; i < logits.size(); ++i) {
    const bool channel = static_cast<int32_t>(i) == id_of(v, Marker::Plugin) ||
                         static_cast<int32_t>(i) == id_of(v, Marker::Interpreter);
    EXPECT_EQ(std::isinf(logits[i]), !channel) << i;
  }
  c.accept(id_of(v, Marker::Interpreter));  // code is not constrained
  std::fill(logits.begin(), logits.end(), 1.0f);
  c.process(logits);
  for (float l : logits) EXPECT_EQ(l, 1.0f);
  EXPECT_FALSE(c.in_call());
}

TEST(ToolCallConstraint, MaskFollowsTheSchema) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  ToolCallConstraint c(index, kTools, v.markers);
  c.accept(id_of(v, Marker::ActionStart));
  c.accept(id_of(v, Marker::Plugin));
  ASSERT_TRUE(c.in_call());
  auto allowed_texts = [&] {
    std::vector<float> logits(v.bytes.size(), 0.0f);
    c.process(logits);
    std::vector<std::string> out;
    for (size_t i = 0; i < logits.size(); ++i) {
      if (!std::isinf(logits[i])) out.push_back(v.bytes[i]);
    }
    return out;
  };
  auto feed = [&](const std::string& piece) {
    for (size_t i = 0; i < v.bytes.size(); ++i) {
      if (!v.control[i] && v.bytes[i] == piece) return c.accept(static_cast<int32_t>(i));
    }
    FAIL() << "no token " << piece;
  };
  auto first = allowed_texts();
  EXPECT_EQ(first, (std::vector<std::string>{" ", "{", "\n", "{\""}));
  feed("{\"");
  EXPECT_EQ(allowed_texts(), (std::vector<std::string>{"n", "name"}));
  for (const char* p : {"name", "\":", " \"", "search", "\",", " \"", "parameters", "\":", " ", "{\""})
    feed(p);
  auto keys = allowed_texts();
  EXPECT_NE(std::find(keys.begin(), keys.end(), "query"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "top_k"), keys.end());
  EXPECT_EQ(std::find(keys.begin(), keys.end(), "expression"), keys.end());  // a calculator argument
  for (const char* p : {"query", "\":", " \"", "the", " weather", "\xE4"}) feed(p);
  auto mid_char = allowed_texts();  // inside a UTF-8 character only continuation bytes fit
  EXPECT_EQ(mid_char, (std::vector<std::string>{"\xB8", "\xAD"}));
  feed("\xB8");
  feed("\xAD");
  feed("\"}}");
  auto end = allowed_texts();
  EXPECT_EQ(end, (std::vector<std::string>{" ", "\n", "<|action_end|>"}));
  c.accept(id_of(v, Marker::ActionEnd));
  EXPECT_FALSE(c.in_call());
}

TEST(ToolCallConstraint, NeedsTheMarkerIds) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  EXPECT_THROW(ToolCallConstraint(index, kTools, MarkerIds{}), std::invalid_argument);
}
