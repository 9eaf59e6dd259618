// The tokenizer: sentencepiece (tokenizer.model) plus the protocol's special tokens, which are split out of
// the text before sentencepiece sees it and recognised in both spellings (<|im_start|> and
// [UNUSED_TOKEN_146]).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace agentrt::engine {

struct SpecialToken {
  int32_t id = 0;
  std::string name;                    // the readable name, e.g. "<|im_start|>"
  std::vector<std::string> spellings;  // every text that encodes to it, the name first
};

class Tokenizer {
 public:
  // Loads DIR/tokenizer.model and, when present, DIR/tokenizer_config.json. Throws std::runtime_error naming
  // the missing or broken file.
  static Tokenizer load(const std::filesystem::path& model_dir);
  // From a tokenizer.model and an optional tokenizer_config.json ("" for none).
  static Tokenizer from_files(const std::filesystem::path& model_file,
                              const std::filesystem::path& config_file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Special tokens become their ids wherever either spelling occurs; the rest goes through sentencepiece.
  std::vector<int32_t> encode(std::string_view text, bool add_bos = true) const;
  // Concatenated bytes of the tokens (special tokens as their names; BOS/EOS/UNK as nothing). May end in the
  // middle of a UTF-8 sequence; use StreamDecoder for text shown to people.
  std::string decode_bytes(std::span<const int32_t> ids) const;
  // Valid UTF-8: broken sequences become U+FFFD.
  std::string decode(std::span<const int32_t> ids) const;
  // The bytes one token contributes (a byte-fallback piece gives one raw byte).
  const std::string& token_bytes(int32_t id) const;

  // A token as people read it: a special token's name (also BOS/EOS), otherwise its decoded text.
  std::string token_text(int32_t id) const;

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  const std::vector<SpecialToken>& special_tokens() const { return specials_; }
  // The id of a special token by any of its spellings.
  std::optional<int32_t> special_id(std::string_view spelling) const;
  bool is_special(int32_t id) const;

 private:
  Tokenizer();
  void finish_setup(const std::filesystem::path& config_file);

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<std::string> pieces_;  // bytes of each id
  std::vector<SpecialToken> specials_;
  std::vector<bool> special_mask_;
  int32_t bos_id_ = 1;
  int32_t eos_id_ = 2;
  bool strip_dummy_prefix_ = false;
};

// Replaces every broken UTF-8 sequence by U+FFFD.
std::string sanitize_utf8(std::string_view bytes);
// Length of the longest prefix of `bytes` that does not end inside a (so far valid) UTF-8 sequence.
std::size_t complete_utf8_prefix(std::string_view bytes);

// Turns a stream of token ids into text pieces that are always valid UTF-8: bytes of an unfinished character
// are held until it completes; bytes that can never form a character are released as U+FFFD.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}
  std::string push(int32_t id);
  // Releases what is held (an unfinished character becomes U+FFFD).
  std::string finish();

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
  bool first_ = true;
};

}  // namespace agentrt::engine
