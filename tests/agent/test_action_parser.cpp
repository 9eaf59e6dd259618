#include <gtest/gtest.h>

#include "agent/action_parser.h"

using namespace agentrt;
using namespace agentrt::agent;

namespace {

// ../shared/spec/internlm2-protocol.md §7, InternLM2.5-7B-chat, interpreter, generated with <|action_end|> as
// a stop word (so it is absent).
const std::string kRealInterpreter =
    "Let's start by finding the factors of 63 using Python.<|action_start|><|interpreter|>\n```python\nfrom "
    "sympy "
    "import divisors\n\n# Find the factors of 63\nfactors_of_63 = divisors(63)\nfactors_of_63\n```";
// ../shared/spec/internlm2-protocol.md §7, InternLM2.5-7B-chat (Q4_0 GGUF), plugin, special tokens printed as
// text.
const std::string kRealPlugin =
    "I need to use the duckduckgo-search API to find the latest news.<|action_start|><|plugin|>\n{\"name\":"
    "\"duckduckgo-search\",\"parameters\":{\"input\":\"latest news today\"}}<|action_end|>";

struct Collected {
  std::string released;
  ParsedReply reply;
};

// Feeds `chunks` one after another and gathers the released text.
Collected run_chunks(const std::vector<std::string>& chunks) {
  ActionParser p;
  Collected c;
  auto take = [&](const std::vector<ParserEvent>& events) {
    for (const auto& e : events) {
      if (e.kind == ParserEvent::Kind::Text) c.released += e.text;
    }
  };
  for (const auto& ch : chunks) take(p.feed_text(ch));
  take(p.finish());
  c.reply = p.reply();
  return c;
}

void expect_same(const ParsedReply& a, const ParsedReply& b, const std::string& where) {
  EXPECT_EQ(a.text, b.text) << where;
  EXPECT_EQ(a.thought, b.thought) << where;
  ASSERT_EQ(a.actions.size(), b.actions.size()) << where;
  for (size_t i = 0; i < a.actions.size(); ++i) {
    EXPECT_EQ(a.actions[i].name, b.actions[i].name) << where;
    EXPECT_EQ(a.actions[i].arguments, b.actions[i].arguments) << where;
    EXPECT_EQ(a.actions[i].code, b.actions[i].code) << where;
    EXPECT_EQ(a.actions[i].valid, b.actions[i].valid) << where;
    EXPECT_EQ(a.actions[i].closed, b.actions[i].closed) << where;
  }
}

}  // namespace

TEST(ActionParser, RealInterpreterOutputWithoutActionEnd) {
  auto r = ActionParser::parse(kRealInterpreter);
  EXPECT_EQ(r.thought, "Let's start by finding the factors of 63 using Python.");
  ASSERT_EQ(r.actions.size(), 1u);
  const auto& a = r.actions[0];
  EXPECT_TRUE(a.valid);
  EXPECT_FALSE(a.closed);
  EXPECT_EQ(a.channel, Channel::Interpreter);
  EXPECT_EQ(a.name, "interpreter");
  EXPECT_EQ(a.language, "python");
  EXPECT_EQ(
      a.code,
      "from sympy import divisors\n\n# Find the factors of 63\nfactors_of_63 = divisors(63)\nfactors_of_63");
}

TEST(ActionParser, RealPluginOutputPrintedAsText) {
  auto r = ActionParser::parse(kRealPlugin);
  EXPECT_EQ(r.thought, "I need to use the duckduckgo-search API to find the latest news.");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_TRUE(r.actions[0].closed);
  EXPECT_EQ(r.actions[0].name, "duckduckgo-search");
  EXPECT_EQ(r.actions[0].arguments, Json::parse(R"({"input":"latest news today"})"));
}

TEST(ActionParser, PlainAnswerHasNoActions) {
  auto r = ActionParser::parse("The answer is 42.");
  EXPECT_EQ(r.text, "The answer is 42.");
  EXPECT_TRUE(r.actions.empty());
}

TEST(ActionParser, UnusedTokenSpellings) {
  auto r = ActionParser::parse(
      "Think.[UNUSED_TOKEN_144][UNUSED_TOKEN_141]\n{\"name\": \"calculator\", \"parameters\": "
      "{\"expression\": "
      "\"2+2\"}}[UNUSED_TOKEN_143][UNUSED_TOKEN_145]trailing");
  EXPECT_EQ(r.thought, "Think.");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].name, "calculator");
  EXPECT_TRUE(r.ended_by_im_end);
  EXPECT_EQ(r.text, "Think.");  // nothing after <|im_end|> counts
}

TEST(ActionParser, UnusedInterpreterSpelling) {
  auto r =
      ActionParser::parse("[UNUSED_TOKEN_144][UNUSED_TOKEN_142]\n```lua\nreturn 1\n```[UNUSED_TOKEN_143]");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].channel, Channel::Interpreter);
  EXPECT_EQ(r.actions[0].code, "return 1");
}

TEST(ActionParser, ArgumentsKeyAccepted) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].arguments, Json::parse(R"({"x":1})"));
}

TEST(ActionParser, StringEncodedArgumentsDecoded) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>\n{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": [1, 2]}\"}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].arguments, Json::parse(R"({"x":[1,2]})"));
}

TEST(ActionParser, StringArgumentsThatAreNotJsonAreInvalid) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>{\"name\": \"f\", \"parameters\": \"x=1\"}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].name, "f");
  EXPECT_NE(r.actions[0].error.find("invalid json format"), std::string::npos);
}

TEST(ActionParser, MissingParametersMeansEmptyObject) {
  auto r = ActionParser::parse("<|action_start|><|plugin|>{\"name\": \"now\"}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].arguments, Json::object());
}

TEST(ActionParser, NonObjectParametersInvalid) {
  auto r =
      ActionParser::parse("<|action_start|><|plugin|>{\"name\": \"f\", \"parameters\": [1]}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].error, "invalid json format: \"parameters\" must be a JSON object");
}

TEST(ActionParser, MissingNewlineAfterPlugin) {
  auto r =
      ActionParser::parse("<|action_start|><|plugin|>{\"name\": \"f\", \"parameters\": {}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
}

TEST(ActionParser, FencedJson) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>\n```json\n{\"name\": \"f\", \"parameters\": {\"q\": "
      "\"a\"}}\n```<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].arguments["q"], "a");
}

TEST(ActionParser, TrailingTextAfterJsonIgnored) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>\n{\"name\": \"f\", \"parameters\": {}} I hope this works.<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].name, "f");
}

TEST(ActionParser, BracesInsideStringsDoNotConfuseTheObject) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>{\"name\": \"f\", \"parameters\": {\"s\": \"}{\\\"}\"}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].arguments["s"], "}{\"}");
}

TEST(ActionParser, InvalidJsonReported) {
  auto r = ActionParser::parse("<|action_start|><|plugin|>\n{'name': 'f', 'parameters': {}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].error.rfind("invalid json format", 0), 0u);
}

TEST(ActionParser, UnclosedJsonReported) {
  auto r =
      ActionParser::parse("<|action_start|><|plugin|>\n{\"name\": \"f\", \"parameters\": {<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].error,
            "invalid json format: the JSON object of the call is not closed (missing '}')");
}

TEST(ActionParser, NoJsonAtAll) {
  auto r = ActionParser::parse("<|action_start|><|plugin|>\nsearch for cats<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].raw, "\nsearch for cats");
}

TEST(ActionParser, MissingNameReported) {
  auto r = ActionParser::parse("<|action_start|><|plugin|>{\"parameters\": {}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].error, "invalid json format: the call needs a \"name\" naming the tool");
}

TEST(ActionParser, TwoCallsInOneReply) {
  auto r = ActionParser::parse(
      "First.<|action_start|><|plugin|>\n{\"name\": \"a\", \"parameters\": {}}<|action_end|>\nThen."
      "<|action_start|><|plugin|>\n{\"name\": \"b\", \"parameters\": {\"k\": 1}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[0].name, "a");
  EXPECT_EQ(r.actions[1].name, "b");
  EXPECT_EQ(r.thought, "First.");
  EXPECT_EQ(r.text, "First.\nThen.");
}

TEST(ActionParser, PluginThenInterpreter) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>{\"name\": "
      "\"a\"}<|action_end|><|action_start|><|interpreter|>\n```lua\nprint(1)\n"
      "```<|action_end|>");
  ASSERT_EQ(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[0].channel, Channel::Plugin);
  EXPECT_EQ(r.actions[1].channel, Channel::Interpreter);
  EXPECT_EQ(r.actions[1].code, "print(1)");
}

TEST(ActionParser, MissingActionEndAtEndOfGeneration) {
  auto r = ActionParser::parse("<|action_start|><|plugin|>\n{\"name\": \"f\", \"parameters\": {\"a\": 1}}");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_FALSE(r.actions[0].closed);
}

TEST(ActionParser, ImEndClosesAnOpenCall) {
  auto r = ActionParser::parse("<|action_start|><|plugin|>{\"name\": \"f\"}<|im_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_TRUE(r.ended_by_im_end);
}

TEST(ActionParser, InterpreterWithoutFence) {
  auto r = ActionParser::parse("<|action_start|><|interpreter|>\nreturn 2 + 2\n<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.actions[0].code, "return 2 + 2");
  EXPECT_EQ(r.actions[0].language, "");
}

TEST(ActionParser, InterpreterFenceWithoutLabel) {
  auto r = ActionParser::parse("<|action_start|><|interpreter|>\n```\nx = 1\nreturn x\n```<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].code, "x = 1\nreturn x");
}

TEST(ActionParser, EmptyInterpreterCallInvalid) {
  auto r = ActionParser::parse("<|action_start|><|interpreter|>\n```lua\n```<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_NE(r.actions[0].error.find("no code"), std::string::npos);
}

TEST(ActionParser, ActionStartWithoutChannelInvalid) {
  auto r = ActionParser::parse("x<|action_start|>{\"name\": \"f\"}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_FALSE(r.actions[0].valid);
  EXPECT_NE(r.actions[0].error.find("must be followed by <|plugin|>"), std::string::npos);
}

TEST(ActionParser, ChannelMarkerWithoutActionStartStillOpensACall) {
  auto r = ActionParser::parse("ok<|plugin|>\n{\"name\": \"f\", \"parameters\": {}}<|action_end|>");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_TRUE(r.actions[0].valid);
  EXPECT_EQ(r.thought, "ok");
}

TEST(ActionParser, StrayActionEndDropped) {
  auto r = ActionParser::parse("hello<|action_end|> world");
  EXPECT_EQ(r.text, "hello world");
  EXPECT_TRUE(r.actions.empty());
}

TEST(ActionParser, GarbageStaysText) {
  auto r = ActionParser::parse("<| not a marker |> [UNUSED_TOKEN_9] <|im_sta <|action");
  EXPECT_EQ(r.text, "<| not a marker |> [UNUSED_TOKEN_9] <|im_sta <|action");
  EXPECT_TRUE(r.actions.empty());
}

TEST(ActionParser, TextAfterImStartIsIgnored) {
  auto r = ActionParser::parse("Done.<|im_start|>environment\nfake");
  EXPECT_EQ(r.text, "Done.");
  EXPECT_TRUE(r.ended_by_im_end);
}

TEST(ActionParser, ChineseTextAndArguments) {
  auto r = ActionParser::parse(
      "我来查一下。<|action_start|><|plugin|>\n{\"name\": \"搜索\", \"parameters\": {\"query\": "
      "\"上海天气\"}}<|action_end|>");
  EXPECT_EQ(r.thought, "我来查一下。");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].name, "搜索");
  EXPECT_EQ(r.actions[0].arguments["query"], "上海天气");
}

TEST(ActionParser, ArgumentOrderPreserved) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>{\"name\": \"f\", \"parameters\": {\"z\": 1, \"a\": 2}}");
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].arguments.begin().key(), "z");
}

TEST(ActionParser, HoldsBackPartialMarker) {
  ActionParser p;
  auto ev = p.feed_text("Hello <|act");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "Hello ");
  ev = p.feed_text("ion_start|><|plugin|>{\"name\": \"f\"}");
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].kind, ParserEvent::Kind::ActionStart);
  for (const auto& e : ev) EXPECT_NE(e.kind, ParserEvent::Kind::Text);
  ev = p.finish();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, ParserEvent::Kind::Action);
  EXPECT_EQ(ev[0].action.name, "f");
}

TEST(ActionParser, ReleasesHeldTextOnceItCannotBeAMarker) {
  ActionParser p;
  auto ev = p.feed_text("a <|");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "a ");
  ev = p.feed_text("x");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "<|x");
}

TEST(ActionParser, HoldsBackPartialUnusedSpelling) {
  ActionParser p;
  auto ev = p.feed_text("answer [UNUSED_TOK");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "answer ");
  p.feed_text("EN_145]");
  EXPECT_TRUE(p.reply().ended_by_im_end);
  EXPECT_EQ(p.reply().text, "answer ");
}

TEST(ActionParser, FinishReleasesHeldBackText) {
  ActionParser p;
  p.feed_text("cost < 5 <");
  auto ev = p.finish();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "<");
  EXPECT_EQ(p.reply().text, "cost < 5 <");
}

TEST(ActionParser, CallInOneChunk) {
  ActionParser p;
  auto ev = p.feed_text(kRealPlugin);
  size_t actions = 0;
  for (const auto& e : ev) actions += e.kind == ParserEvent::Kind::Action;
  EXPECT_EQ(actions, 1u);  // complete on arrival, before finish()
  EXPECT_EQ(p.reply().actions.size(), 1u);
}

// Every split position of every marker and of the whole text (../shared/spec/internlm2-protocol.md §6:
// markers split across chunks).
TEST(ActionParser, EverySplitPositionGivesTheSameResult) {
  const std::vector<std::string> texts = {
      kRealPlugin, kRealInterpreter,
      "A<|action_start|><|plugin|>\n{\"name\": \"f\", \"parameters\": {\"x\": "
      "\"<|\"}}<|action_end|>B<|im_end|>",
      "[UNUSED_TOKEN_144][UNUSED_TOKEN_141]{\"name\": \"g\"}[UNUSED_TOKEN_143]tail[UNUSED_TOKEN_145]"};
  for (const auto& text : texts) {
    const auto whole = ActionParser::parse(text);
    for (size_t cut = 1; cut < text.size(); ++cut) {
      auto c = run_chunks({text.substr(0, cut), text.substr(cut)});
      expect_same(c.reply, whole, "cut at " + std::to_string(cut) + " of: " + text);
      EXPECT_EQ(c.released, whole.text) << "cut at " << cut;
    }
  }
}

TEST(ActionParser, ByteByByteStreaming) {
  std::vector<std::string> chunks;
  for (char c : kRealInterpreter) chunks.emplace_back(1, c);
  auto c = run_chunks(chunks);
  expect_same(c.reply, ActionParser::parse(kRealInterpreter), "byte by byte");
  EXPECT_EQ(c.released, "Let's start by finding the factors of 63 using Python.");
}

TEST(ActionParser, MarkerTextNeverReleasedToTheUser) {
  std::vector<std::string> chunks;
  for (size_t i = 0; i < kRealPlugin.size(); i += 3) chunks.push_back(kRealPlugin.substr(i, 3));
  auto c = run_chunks(chunks);
  EXPECT_EQ(c.released.find("<|"), std::string::npos);
  EXPECT_EQ(c.released.find("{"), std::string::npos);
}

TEST(ActionParser, TokenIdsDecideMarkers) {
  ActionParser p(internlm2_marker_ids());
  std::vector<TokenChunk> chunks = {{"Use", {100}},
                                    {" it", {101}},
                                    {"", {92541}},
                                    {"", {92538}},
                                    {"\n{\"name\": \"f\", ", {102}},
                                    {"\"parameters\": {}}", {103}},
                                    {"<|action_end|>", {92540}}};
  std::string released;
  for (const auto& ch : chunks) {
    for (const auto& e : p.feed(ch)) {
      if (e.kind == ParserEvent::Kind::Text) released += e.text;
    }
  }
  p.finish();
  EXPECT_EQ(released, "Use it");
  ASSERT_EQ(p.reply().actions.size(), 1u);
  EXPECT_EQ(p.reply().actions[0].name, "f");
  EXPECT_TRUE(p.reply().actions[0].closed);
}

TEST(ActionParser, MarkerTextFromOrdinaryTokensIsNotAMarkerWhenIdsAreKnown) {
  // The model spelled "<|im_end|>" out of ordinary pieces: with ids, that is text, not the end of the turn.
  ActionParser p(internlm2_marker_ids());
  p.feed({"see <|im_", {5}});
  p.feed({"end|> here", {6}});
  p.feed({"", {92542}});
  p.finish();
  EXPECT_EQ(p.reply().text, "see <|im_end|> here");
  EXPECT_TRUE(p.reply().ended_by_im_end);
}

TEST(ActionParser, EosIdEndsTheTurn) {
  ActionParser p(internlm2_marker_ids());
  p.feed({"bye", {7}});
  p.feed({"</s>", {2}});
  p.feed({"more", {8}});
  EXPECT_EQ(p.reply().text, "bye");
  EXPECT_TRUE(p.reply().ended_by_im_end);
}

TEST(ActionParser, TextChunksWithoutIdsFallBackToTextMatching) {
  ActionParser p(internlm2_marker_ids());
  p.feed({"x<|action_start|><|plugin|>{\"name\": \"f\"}<|action_end|>", {}});
  p.finish();
  ASSERT_EQ(p.reply().actions.size(), 1u);
}

TEST(ActionParser, NewCallStartInsideOpenCallClosesIt) {
  auto r = ActionParser::parse(
      "<|action_start|><|plugin|>{\"name\": \"a\"}<|action_start|><|plugin|>{\"name\": \"b\"}");
  ASSERT_EQ(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[0].name, "a");
  EXPECT_FALSE(r.actions[0].closed);
  EXPECT_EQ(r.actions[1].name, "b");
}

TEST(ActionParser, EmptyInput) {
  auto r = ActionParser::parse("");
  EXPECT_TRUE(r.text.empty());
  EXPECT_TRUE(r.actions.empty());
}

// Found by fuzz_action_parser: whitespace right after <|action_start|> arriving in its own chunk was dropped,
// so the streamed call's raw text differed from the one-shot parse.
TEST(ActionParser, WhitespaceAfterActionStartSurvivesChunking) {
  const std::string text = "Let us compute.<|action_start|>\nreturn 6*7\n```";
  const auto whole = ActionParser::parse(text);
  for (size_t chunk = 1; chunk <= 4; ++chunk) {
    std::vector<std::string> chunks;
    for (size_t i = 0; i < text.size(); i += chunk) chunks.push_back(text.substr(i, chunk));
    auto c = run_chunks(chunks);
    expect_same(c.reply, whole, "chunk " + std::to_string(chunk));
    ASSERT_EQ(c.reply.actions.size(), 1u);
    EXPECT_EQ(c.reply.actions[0].raw, "\nreturn 6*7\n```");
  }
  auto spaced = ActionParser::parse("<|action_start|> \n<|plugin|>{\"name\": \"f\"}<|action_end|>");
  ASSERT_EQ(spaced.actions.size(), 1u);
  EXPECT_TRUE(spaced.actions[0].valid);
  EXPECT_EQ(spaced.actions[0].raw, "{\"name\": \"f\"}");
}
