// Structured output (response_format) on a local model: with random logits, every reply the constrained
// sampler produces is one JSON object valid for the schema, then the end of the turn; a reply may open with a
// tool call instead when calls are allowed, and nothing else.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "agent/backends/reply_schema_constraint.h"
#include "agent/schema_validator.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

struct Vocab {
  std::vector<std::string> bytes;
  std::vector<bool> control;
  MarkerIds markers;
  int32_t add(std::string b, bool is_control = false) {
    bytes.push_back(std::move(b));
    control.push_back(is_control);
    return static_cast<int32_t>(bytes.size() - 1);
  }
  int32_t id(Marker m) const {
    for (const auto& [i, mk] : markers) {
      if (mk == m) return i;
    }
    return -1;
  }
};

Vocab make_vocab() {
  Vocab v;
  v.add("", true);  // <unk>
  v.add("", true);  // <s>
  v.add("", true);  // </s>
  for (int c = 0x20; c < 0x7f; ++c) v.add(std::string(1, static_cast<char>(c)));
  for (const char* piece :
       {"\n",  "{\"",        "\":",        " \"",  "\",",        "\"}",         "}}",   "verdict",
        "yes", "no",         "count",      "12",   "true",       "false",       "tags", "[\"",
        "\"]", "calculator", "expression", "name", "parameters", "\xE4\xB8\xAD"}) {
    v.add(piece);
  }
  v.markers[v.add("<|action_start|>", true)] = Marker::ActionStart;
  v.markers[v.add("<|plugin|>", true)] = Marker::Plugin;
  v.markers[v.add("<|action_end|>", true)] = Marker::ActionEnd;
  v.markers[v.add("<|im_end|>", true)] = Marker::ImEnd;
  return v;
}

// An OpenAI strict schema: closed objects, every property required.
const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "verdict": {"type": "string", "enum": ["yes", "no"]},
    "count": {"type": "integer"},
    "sure": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["yes", "no", "count"]}}
  },
  "required": ["verdict", "count", "sure", "tags"],
  "additionalProperties": false
})");

const Json kTools = Json::parse(R"([{"name": "calculator", "parameters": {"type": "object",
  "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}])");

struct Reply {
  std::string text;
  bool ended = false;
  bool opened_call = false;
};

// Samples greedily from noisy logits (a model that knows nothing), nudged towards closing structure.
Reply sample(const Vocab& v, engine::LogitsProcessor* c, std::mt19937& rng, float call_bias = 0) {
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const int32_t im_end = v.id(Marker::ImEnd), start = v.id(Marker::ActionStart);
  Reply r;
  for (int step = 0; step < 400 && !r.ended; ++step) {
    std::vector<float> logits(v.bytes.size());
    for (auto& l : logits) l = noise(rng);
    for (size_t i = 0; i < v.bytes.size(); ++i) {
      if (v.bytes[i].find_first_of("\"}]") != std::string::npos) logits[i] += 1.5f;
    }
    logits[static_cast<size_t>(im_end)] += 3.0f;
    logits[static_cast<size_t>(start)] += call_bias;
    if (c != nullptr) c->process(logits);
    const auto best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_TRUE(std::isfinite(logits[static_cast<size_t>(best)]));
    if (c != nullptr) c->accept(best);
    if (best == im_end || best == 2) {
      r.ended = true;
    } else if (best == start) {
      r.opened_call = true;
      r.text += "<|action_start|>";
    } else {
      r.text += v.bytes[static_cast<size_t>(best)];
    }
    if (r.opened_call && c == nullptr) break;
  }
  return r;
}

bool valid(const std::string& text) {
  const Json j = Json::parse(text, nullptr, false);
  return !j.is_discarded() && j.is_object() && validate_against_schema(kSchema, j).empty();
}

}  // namespace

TEST(ReplySchemaConstraint, RandomModelWritesOnlyValidObjects) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  std::mt19937 rng(11);
  const int trials = 40;
  int valid_constrained = 0, valid_free = 0;
  for (int trial = 0; trial < trials; ++trial) {
    ReplySchemaConstraint c(index, kSchema, {2, v.id(Marker::ImEnd)}, v.markers, /*allow_calls=*/false);
    const Reply r = sample(v, &c, rng);
    EXPECT_TRUE(r.ended) << r.text;
    EXPECT_FALSE(r.opened_call);
    EXPECT_TRUE(valid(r.text)) << r.text;
    EXPECT_TRUE(c.complete());
    valid_constrained += valid(r.text);
    valid_free += valid(sample(v, nullptr, rng).text);
  }
  EXPECT_EQ(valid_constrained, trials);
  EXPECT_EQ(valid_free, 0);
}

TEST(ReplySchemaConstraint, TheTurnEndsOnlyAfterACompleteObject) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  ReplySchemaConstraint c(index, Json{{"type", "object"}}, {2, v.id(Marker::ImEnd)}, v.markers, false);
  std::vector<float> logits(v.bytes.size(), 0.0f);
  c.process(logits);
  EXPECT_TRUE(std::isinf(logits[static_cast<size_t>(v.id(Marker::ImEnd))]));
  EXPECT_TRUE(std::isinf(logits[static_cast<size_t>(v.id(Marker::ActionStart))]));  // no call without tools
  EXPECT_FALSE(std::isinf(logits['{' - 0x20 + 3]));
  c.accept('{' - 0x20 + 3);
  c.accept('}' - 0x20 + 3);
  std::fill(logits.begin(), logits.end(), 0.0f);
  c.process(logits);
  EXPECT_FALSE(std::isinf(logits[static_cast<size_t>(v.id(Marker::ImEnd))]));
  EXPECT_FALSE(std::isinf(logits[2]));
  EXPECT_TRUE(std::isinf(logits['{' - 0x20 + 3]));
}

TEST(ReplySchemaConstraint, AReplyMayOpenWithACallWhenCallsAreAllowed) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  std::mt19937 rng(5);
  int calls = 0, objects = 0;
  for (int trial = 0; trial < 30; ++trial) {
    ReplySchemaConstraint c(index, kSchema, {2, v.id(Marker::ImEnd)}, v.markers, true,
                            std::make_unique<ToolCallConstraint>(index, kTools, v.markers));
    // A model that leans to calling half of the time.
    const Reply r = sample(v, &c, rng, trial % 2 == 0 ? 6.0f : -6.0f);
    if (r.opened_call) {
      ++calls;
      EXPECT_TRUE(c.in_call());
      EXPECT_EQ(r.text.rfind("<|action_start|>", 0), 0u) << r.text;  // the call comes first, no text before
    } else {
      ++objects;
      EXPECT_TRUE(valid(r.text)) << r.text;
    }
  }
  EXPECT_GT(calls, 0);
  EXPECT_GT(objects, 0);
}

TEST(ReplySchemaConstraint, SchemasTheMatcherCannotHoldAreRefused) {
  const Vocab v = make_vocab();
  auto index = std::make_shared<VocabularyIndex>(v.bytes, v.control);
  Json wide = {{"type", "object"}, {"properties", Json::object()}};
  for (int i = 0; i < 70; ++i) wide["properties"]["p" + std::to_string(i)] = Json{{"type", "string"}};
  EXPECT_THROW(ReplySchemaConstraint(index, wide, {2}, v.markers, false), std::invalid_argument);
  // Calls allowed but no <|action_start|> in the vocabulary.
  EXPECT_THROW(ReplySchemaConstraint(index, kSchema, {2}, MarkerIds{}, true), std::invalid_argument);
}
