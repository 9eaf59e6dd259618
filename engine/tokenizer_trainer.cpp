#include "engine/tokenizer_trainer.h"

#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <sentencepiece_trainer.h>
#include <nlohmann/json.hpp>

#include "engine/special_tokens.h"

namespace agentrt::engine {
namespace {

// Feeds the corpus to the trainer line by line.
class CorpusIterator : public sentencepiece::SentenceIterator {
 public:
  explicit CorpusIterator(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      if (end > pos) lines_.emplace_back(text.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  bool done() const override { return index_ >= lines_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return lines_[index_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  std::vector<std::string> lines_;
  std::size_t index_ = 0;
};

// Protocol-buffer wire format for appending ModelProto.pieces entries (field 1) to a serialized model:
// repeated fields may continue anywhere in a message, so appended entries become the next ids.
void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

enum PieceType { kUserDefined = 4, kUnused = 5 };

void append_piece(std::string& model, const std::string& piece, PieceType type) {
  std::string message;
  message += '\x0a';  // field 1 (piece), length-delimited
  put_varint(message, piece.size());
  message += piece;
  message += '\x15';  // field 2 (score), fixed32 float 0.0
  message.append(4, '\0');
  message += '\x18';  // field 3 (type), varint
  put_varint(message, type);
  model += '\x0a';  // ModelProto field 1 (pieces)
  put_varint(model, message.size());
  model += message;
}

// The protocol's added tokens, in the order of InternLM2's vocabulary: they take the last ids.
constexpr std::span<const ProtocolTokenSpelling> kAdded(kProtocolTokens.data(), kAddedProtocolTokenCount);

}  // namespace

void write_trained_tokenizer(const std::filesystem::path& dir, int vocab_size) {
  constexpr int kSpecialCount = static_cast<int>(kAdded.size());
  constexpr int kTinyLimit = 1000;
  if (vocab_size < 512) throw std::invalid_argument("make-model: vocab_size must be at least 512");
  // The corpus is small: a large vocabulary gets a few thousand trained pieces and unused padding.
  const int trained = std::min(vocab_size - kSpecialCount, 3000);
  std::unordered_map<std::string, std::string> args{
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(trained)},
      {"byte_fallback", "true"},
      {"character_coverage", vocab_size < kTinyLimit ? "0.98" : "0.9995"},
      {"add_dummy_prefix", "false"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"num_threads", "1"},
      {"minloglevel", "2"},
  };
  CorpusIterator corpus(tokenizer_corpus());
  std::string model;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &corpus, &model);
  if (!status.ok()) throw std::runtime_error("make-model: tokenizer training failed: " + status.ToString());
  for (int id = trained; id < vocab_size - kSpecialCount; ++id)
    append_piece(model, "<pad_" + std::to_string(id) + ">", kUnused);
  for (const auto& s : kAdded) append_piece(model, std::string(s.piece), kUserDefined);

  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "tokenizer.model", std::ios::binary);
    out.write(model.data(), static_cast<std::streamsize>(model.size()));
    if (!out) throw std::runtime_error((dir / "tokenizer.model").string() + ": cannot write");
  }
  nlohmann::ordered_json added = nlohmann::ordered_json::object();
  const auto entry = [](const std::string& content) {
    return nlohmann::ordered_json{{"content", content}, {"lstrip", false},      {"normalized", false},
                                  {"rstrip", false},    {"single_word", false}, {"special", true}};
  };
  added["0"] = entry("<unk>");
  added["1"] = entry("<s>");
  added["2"] = entry("</s>");
  for (int i = 0; i < kSpecialCount; ++i)
    added[std::to_string(vocab_size - kSpecialCount + i)] = entry(std::string(kAdded[i].text));
  // HF lists them in the reverse of vocabulary order (<|im_start|> first), as InternLM2's own config does.
  nlohmann::ordered_json additional = nlohmann::ordered_json::array();
  for (auto it = kAdded.rbegin(); it != kAdded.rend(); ++it) additional.push_back(std::string(it->text));
  nlohmann::ordered_json config{
      {"add_bos_token", true},
      {"add_eos_token", false},
      {"added_tokens_decoder", added},
      {"additional_special_tokens", additional},
      {"bos_token", "<s>"},
      {"clean_up_tokenization_spaces", false},
      {"eos_token", "</s>"},
      {"model_max_length", 1000000000000000019884624838656.0},
      {"pad_token", "</s>"},
      {"tokenizer_class", "InternLM2Tokenizer"},
      {"unk_token", "<unk>"},
  };
  std::ofstream out(dir / "tokenizer_config.json");
  out << config.dump(2) << "\n";
  if (!out) throw std::runtime_error((dir / "tokenizer_config.json").string() + ": cannot write");
}

}  // namespace agentrt::engine
