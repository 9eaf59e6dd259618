// The tokenizer on the tiny model's trained vocabulary and on the real InternLM tokenizer (100k pieces).
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/tokenizer.h"
#include "engine/tokenizer_trainer.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

// The real InternLM tokenizer lives next to the repository (../shared), not in it.
const std::filesystem::path kInternLM =
    std::filesystem::path(AGENTRT_SOURCE_DIR) / "../shared/tokenizers/internlm-7b-v1.model";

const std::vector<std::string>& texts() {
  static const std::vector<std::string> all = {
      "The quick brown fox jumps over the lazy dog.",
      "今天上海的天气很好，气温二十二度。",
      "def factors(n):\n    return [i for i in range(1, n + 1) if n % i == 0]\n",
      "Emoji: \xf0\x9f\x98\x80 \xf0\x9f\x9a\x80 \xe2\x9c\xa8 family: "
      "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
      "  leading and trailing spaces, tabs\tand\nnewlines  ",
      "Mixed: Caf\xc3\xa9 \xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac "
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e 12345",
  };
  return all;
}

// Decoding token by token through StreamDecoder gives the same text as decoding all at once, and every
// piece is valid UTF-8 on its own.
void expect_stream_equals(const Tokenizer& tok, const std::vector<int32_t>& ids,
                          const std::string& expected) {
  StreamDecoder stream(tok);
  std::string joined;
  for (const int32_t id : ids) {
    const std::string piece = stream.push(id);
    EXPECT_EQ(sanitize_utf8(piece), piece) << "a streamed piece is not valid UTF-8";
    joined += piece;
  }
  joined += stream.finish();
  EXPECT_EQ(joined, expected);
}

class TokenizerTest : public ::testing::TestWithParam<std::string> {
 protected:
  Tokenizer load() const {
    if (GetParam() == "tiny") return Tokenizer::load(testing::tiny_model());
    return Tokenizer::from_files(kInternLM, "");
  }
};

TEST_P(TokenizerTest, RoundTripsText) {
  if (GetParam() == "internlm" && !std::filesystem::exists(kInternLM))
    GTEST_SKIP() << kInternLM << " not present";
  const Tokenizer tok = load();
  for (const auto& text : texts()) {
    const auto ids = tok.encode(text, true);
    ASSERT_EQ(ids.front(), tok.bos_id());
    EXPECT_EQ(tok.decode(ids), text);
    expect_stream_equals(tok, ids, text);
  }
}

TEST_P(TokenizerTest, InvalidUtf8BecomesReplacementCharacters) {
  if (GetParam() == "internlm" && !std::filesystem::exists(kInternLM))
    GTEST_SKIP() << kInternLM << " not present";
  const Tokenizer tok = load();
  const std::string bad = "ok \xff\xfe then \xe4\xbd done";
  const auto ids = tok.encode(bad, false);
  const std::string decoded = tok.decode(ids);
  EXPECT_EQ(sanitize_utf8(decoded), decoded);
  EXPECT_NE(decoded.find("ok "), std::string::npos);
  EXPECT_NE(decoded.find(" done"), std::string::npos);
  EXPECT_NE(decoded.find("\xef\xbf\xbd"), std::string::npos);
}

TEST_P(TokenizerTest, SpecialTokensInBothSpellings) {
  if (GetParam() == "internlm" && !std::filesystem::exists(kInternLM))
    GTEST_SKIP() << kInternLM << " not present";
  const Tokenizer tok = load();
  if (GetParam() == "internlm") {
    // InternLM v1 has no protocol tokens: the text is ordinary text.
    EXPECT_FALSE(tok.special_id("<|im_start|>").has_value());
    EXPECT_EQ(tok.decode(tok.encode("<|im_start|>user", false)), "<|im_start|>user");
    return;
  }
  const auto im_start = tok.special_id("<|im_start|>");
  ASSERT_TRUE(im_start.has_value());
  EXPECT_EQ(tok.special_id("[UNUSED_TOKEN_146]"), im_start);
  EXPECT_EQ(*im_start, tok.vocab_size() - 1);
  EXPECT_EQ(*tok.special_id("<|plugin|>"), tok.vocab_size() - 6);
  const auto readable = tok.encode("<|im_start|>user\nhi<|im_end|>\n", true);
  const auto raw = tok.encode("[UNUSED_TOKEN_146]user\nhi[UNUSED_TOKEN_145]\n", true);
  EXPECT_EQ(readable, raw);
  EXPECT_EQ(readable[1], *im_start);
  EXPECT_EQ(tok.decode(readable), "<|im_start|>user\nhi<|im_end|>\n");
  // Back to back, and a marker inside a word.
  const auto packed = tok.encode("a<|action_start|><|plugin|>b", false);
  ASSERT_GE(packed.size(), 4u);
  EXPECT_EQ(tok.decode(packed), "a<|action_start|><|plugin|>b");
  EXPECT_TRUE(tok.is_special(*tok.special_id("<|action_start|>")));
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, TokenizerTest, ::testing::Values("tiny", "internlm"));

TEST(Tokenizer, RealInternLMVocabularyEncodesCompactly) {
  if (!std::filesystem::exists(kInternLM)) GTEST_SKIP() << kInternLM << " not present";
  const Tokenizer tok = Tokenizer::from_files(kInternLM, "");
  EXPECT_EQ(tok.vocab_size(), 103168);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  // A 100k vocabulary covers common words and CJK characters with few tokens.
  EXPECT_LE(tok.encode("The weather is nice today.", false).size(), 8u);
  EXPECT_LE(tok.encode("今天天气很好", false).size(), 6u);
}

TEST(Tokenizer, StreamingNeverSplitsACharacter) {
  const Tokenizer tok = Tokenizer::load(testing::tiny_model());
  // The tiny vocabulary spells CJK and emoji with byte-fallback pieces, one byte per token.
  const std::string text = "\xf0\x9f\x9a\x80\xe6\xb5\x8b";
  const auto ids = tok.encode(text, false);
  ASSERT_GE(ids.size(), 2u);
  StreamDecoder stream(tok);
  std::vector<std::string> pieces;
  for (const int32_t id : ids) pieces.push_back(stream.push(id));
  pieces.push_back(stream.finish());
  std::string joined;
  for (const auto& p : pieces) {
    EXPECT_TRUE(p.empty() || p == "\xf0\x9f\x9a\x80" || p == "\xe6\xb5\x8b" || p == text) << p;
    joined += p;
  }
  EXPECT_EQ(joined, text);
}

TEST(Tokenizer, UnfinishedCharacterAtTheEndIsReplaced) {
  const Tokenizer tok = Tokenizer::load(testing::tiny_model());
  const auto ids = tok.encode("\xf0\x9f\x9a\x80", false);
  StreamDecoder stream(tok);
  std::string out;
  for (std::size_t i = 0; i + 1 < ids.size(); ++i) out += stream.push(ids[i]);
  EXPECT_EQ(out, "");
  EXPECT_EQ(stream.finish(), "\xef\xbf\xbd");
}

TEST(Tokenizer, Utf8Helpers) {
  EXPECT_EQ(sanitize_utf8("a\xc3"), "a\xef\xbf\xbd");
  EXPECT_EQ(sanitize_utf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(complete_utf8_prefix("ab\xe6\xb5"), 2u);
  EXPECT_EQ(complete_utf8_prefix("ab\xe6\xb5\x8b"), 5u);
}

TEST(Tokenizer, DefaultsWithoutTokenizerConfig) {
  // Without tokenizer_config.json the protocol tokens are found by their raw [UNUSED_TOKEN_*] pieces.
  const auto dir = testing::temp_dir("tokenizer-no-config");
  std::filesystem::copy_file(testing::tiny_model() / "tokenizer.model", dir / "tokenizer.model");
  const Tokenizer tok = Tokenizer::load(dir);
  EXPECT_EQ(tok.special_id("<|im_end|>"), tok.vocab_size() - 2);
  EXPECT_EQ(tok.special_id("[UNUSED_TOKEN_145]"), tok.vocab_size() - 2);
  EXPECT_EQ(tok.special_id("</s>"), 2);
}

TEST(Tokenizer, FullSizeVocabularyPutsProtocolTokensAtInternLM2Ids) {
  const auto dir = testing::temp_dir("tokenizer-92544");
  write_trained_tokenizer(dir, 92544);
  const Tokenizer tok = Tokenizer::load(dir);
  EXPECT_EQ(tok.vocab_size(), 92544);
  EXPECT_EQ(tok.special_id("<|plugin|>"), 92538);
  EXPECT_EQ(tok.special_id("<|interpreter|>"), 92539);
  EXPECT_EQ(tok.special_id("<|action_end|>"), 92540);
  EXPECT_EQ(tok.special_id("<|action_start|>"), 92541);
  EXPECT_EQ(tok.special_id("<|im_end|>"), 92542);
  EXPECT_EQ(tok.special_id("<|im_start|>"), 92543);
  EXPECT_EQ(tok.encode("<|im_start|>user", true)[1], 92543);
  // Padding pieces are never produced by encoding.
  for (const int32_t id : tok.encode("hello world 你好 \xf0\x9f\x98\x80", false)) EXPECT_LT(id, 3000);
}

TEST(Tokenizer, ErrorsNameTheFile) {
  const auto dir = testing::temp_dir("tokenizer-errors");
  try {
    Tokenizer::load(dir);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model: missing tokenizer"), std::string::npos)
        << e.what();
  }
  testing::write_file(dir / "tokenizer.model", "not a protobuf at all");
  try {
    Tokenizer::load(dir);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model: not a sentencepiece model"), std::string::npos)
        << e.what();
  }
  std::filesystem::copy_file(testing::tiny_model() / "tokenizer.model", dir / "tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
  testing::write_file(dir / "tokenizer_config.json",
                      "{\"added_tokens_decoder\": {\"99999\": {\"content\": \"<x>\"}}}");
  try {
    Tokenizer::load(dir);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("added token id 99999 is outside the vocabulary"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace agentrt::engine
