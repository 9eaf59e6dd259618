#include "engine/tokenizer.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sentencepiece_processor.h>
#include <nlohmann/json.hpp>

#include "engine/special_tokens.h"

namespace agentrt::engine {
namespace {

constexpr std::string_view kSpaceMarker = "\xe2\x96\x81";  // U+2581, sentencepiece's word-boundary symbol
constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD

enum class Utf8 { Complete, Incomplete, Invalid };

// Classifies the UTF-8 sequence starting at bytes[i]; `length` is its length (Complete) or 1 (Invalid).
Utf8 scan_utf8(std::string_view bytes, std::size_t i, std::size_t& length) {
  const auto b = static_cast<uint8_t>(bytes[i]);
  length = 1;
  if (b < 0x80) return Utf8::Complete;
  std::size_t need = 0;
  uint8_t lo = 0x80, hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) {
    need = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    need = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return Utf8::Invalid;
  }
  for (std::size_t k = 1; k < need; ++k) {
    if (i + k >= bytes.size()) return Utf8::Incomplete;
    const auto c = static_cast<uint8_t>(bytes[i + k]);
    const uint8_t low = k == 1 ? lo : 0x80, high = k == 1 ? hi : 0xbf;
    if (c < low || c > high) return Utf8::Invalid;
  }
  length = need;
  return Utf8::Complete;
}

// Appends the valid text of bytes[0, end) to `out`, invalid bytes as U+FFFD; returns where an unfinished
// sequence starts (or bytes.size()).
std::size_t append_valid(std::string_view bytes, std::string& out, bool flush) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t length = 0;
    const Utf8 kind = scan_utf8(bytes, i, length);
    if (kind == Utf8::Incomplete) {
      if (!flush) return i;
      out += kReplacement;
      return bytes.size();
    }
    if (kind == Utf8::Invalid) {
      out += kReplacement;
    } else {
      out.append(bytes.substr(i, length));
    }
    i += length;
  }
  return i;
}

std::string replace_space_marker(const std::string& piece) {
  std::string out;
  std::size_t i = 0;
  while (i < piece.size()) {
    if (piece.compare(i, kSpaceMarker.size(), kSpaceMarker) == 0) {
      out += ' ';
      i += kSpaceMarker.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

}  // namespace

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  append_valid(bytes, out, true);
  return out;
}

std::size_t complete_utf8_prefix(std::string_view bytes) {
  std::string scratch;
  return append_valid(bytes, scratch, false);
}

Tokenizer::Tokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::filesystem::path& model_dir) {
  const auto model = model_dir / "tokenizer.model";
  if (!std::filesystem::exists(model)) throw std::runtime_error(model.string() + ": missing tokenizer");
  const auto config = model_dir / "tokenizer_config.json";
  return from_files(model, std::filesystem::exists(config) ? config : std::filesystem::path());
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& model_file,
                                const std::filesystem::path& config_file) {
  Tokenizer tok;
  if (!std::filesystem::exists(model_file))
    throw std::runtime_error(model_file.string() + ": missing tokenizer");
  const auto status = tok.sp_->Load(model_file.string());
  if (!status.ok()) {
    throw std::runtime_error(model_file.string() + ": not a sentencepiece model (" + status.ToString() + ")");
  }
  tok.finish_setup(config_file);
  return tok;
}

void Tokenizer::finish_setup(const std::filesystem::path& config_file) {
  const int n = sp_->GetPieceSize();
  pieces_.resize(n);
  for (int id = 0; id < n; ++id) {
    const std::string& piece = sp_->IdToPiece(id);
    if (sp_->IsByte(id)) {
      // "<0xAB>"
      pieces_[id] = std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
    } else if (sp_->IsControl(id) || sp_->IsUnknown(id) || sp_->IsUnused(id)) {
      pieces_[id].clear();
    } else {
      pieces_[id] = replace_space_marker(piece);
    }
  }
  if (sp_->bos_id() >= 0) bos_id_ = sp_->bos_id();
  if (sp_->eos_id() >= 0) eos_id_ = sp_->eos_id();

  const auto add_special = [&](int32_t id, const std::string& name) {
    if (id < 0 || id >= n) return;
    SpecialToken token{id, name, {name}};
    const std::string& piece = sp_->IdToPiece(id);
    if (piece != name && !sp_->IsControl(id) && !sp_->IsUnknown(id)) token.spellings.push_back(piece);
    for (auto& existing : specials_) {
      if (existing.id == id) return;
    }
    specials_.push_back(std::move(token));
  };

  nlohmann::json config;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) throw std::runtime_error(config_file.string() + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    config = nlohmann::json::parse(text.str(), nullptr, false);
    if (config.is_discarded() || !config.is_object()) {
      throw std::runtime_error(config_file.string() + ": not a JSON object");
    }
  }
  const auto decoder = config.is_object() ? config.find("added_tokens_decoder") : config.end();
  if (config.is_object() && decoder != config.end() && decoder->is_object()) {
    for (const auto& [key, entry] : decoder->items()) {
      int32_t id = -1;
      try {
        id = std::stoi(key);
      } catch (const std::exception&) {
        throw std::runtime_error(config_file.string() + ": added_tokens_decoder key '" + key +
                                 "' is not an id");
      }
      if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string()) {
        throw std::runtime_error(config_file.string() + ": added_tokens_decoder entry " + key +
                                 " has no content");
      }
      if (id < 0 || id >= n) {
        throw std::runtime_error(config_file.string() + ": added token id " + key +
                                 " is outside the vocabulary of " + std::to_string(n));
      }
      add_special(id, entry["content"].get<std::string>());
    }
  } else {
    add_special(sp_->unk_id(), "<unk>");
    add_special(bos_id_, "<s>");
    add_special(eos_id_, "</s>");
    // Without a config: the protocol's added tokens by their sentencepiece pieces, or by InternLM2's ids.
    for (const auto& s : kProtocolTokens) {
      if (s.piece.empty()) continue;  // <s> and </s>: sentencepiece's own, added above
      const int piece_id = sp_->PieceToId(s.piece);
      if (piece_id != sp_->unk_id() && piece_id >= 0) {
        add_special(piece_id, std::string(s.text));
      } else if (n == kInternLM2VocabSize) {
        add_special(s.internlm2_id, std::string(s.text));
      }
    }
  }
  // Named BOS/EOS tokens in the config override sentencepiece's.
  for (const auto& [field, target] :
       {std::pair<const char*, int32_t*>{"bos_token", &bos_id_}, {"eos_token", &eos_id_}}) {
    if (config.is_object() && config.contains(field) && config[field].is_string()) {
      if (const auto id = special_id(config[field].get<std::string>())) *target = *id;
    }
  }
  special_mask_.assign(n, false);
  for (const auto& s : specials_) {
    special_mask_[s.id] = true;
    const bool silent = s.id == bos_id_ || s.id == eos_id_ || s.id == sp_->unk_id();
    pieces_[s.id] = silent ? std::string() : s.name;
  }
  std::vector<std::string> probe;
  sp_->Encode("a", &probe).IgnoreError();
  strip_dummy_prefix_ = !probe.empty() && probe.front().starts_with(kSpaceMarker);
}

std::optional<int32_t> Tokenizer::special_id(std::string_view spelling) const {
  for (const auto& s : specials_) {
    for (const auto& text : s.spellings) {
      if (text == spelling) return s.id;
    }
  }
  return std::nullopt;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < special_mask_.size() && special_mask_[id];
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  if (add_bos) ids.push_back(bos_id_);
  std::size_t pos = 0;
  std::vector<int> segment_ids;
  while (pos <= text.size()) {
    // The earliest special spelling; the longest one where several start at the same place.
    std::size_t best = std::string_view::npos, best_len = 0;
    int32_t best_id = -1;
    for (const auto& s : specials_) {
      for (const auto& spelling : s.spellings) {
        if (spelling.empty()) continue;
        const std::size_t at = text.find(spelling, pos);
        if (at == std::string_view::npos) continue;
        if (at < best || (at == best && spelling.size() > best_len)) {
          best = at;
          best_len = spelling.size();
          best_id = s.id;
        }
      }
    }
    const std::size_t end = best == std::string_view::npos ? text.size() : best;
    if (end > pos) {
      segment_ids.clear();
      const auto status = sp_->Encode(text.substr(pos, end - pos), &segment_ids);
      if (!status.ok()) throw std::runtime_error("tokenizer: cannot encode text: " + status.ToString());
      ids.insert(ids.end(), segment_ids.begin(), segment_ids.end());
    }
    if (best == std::string_view::npos) break;
    ids.push_back(best_id);
    pos = best + best_len;
  }
  return ids;
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size()) {
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(pieces_.size()));
  }
  return pieces_[id];
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids) const {
  std::string out;
  bool first = true;
  for (const int32_t id : ids) {
    const std::string& bytes = token_bytes(id);
    if (bytes.empty()) continue;
    if (first && strip_dummy_prefix_ && !is_special(id) && bytes.front() == ' ') {
      out.append(bytes, 1);
    } else {
      out += bytes;
    }
    first = false;
  }
  return out;
}

std::string Tokenizer::token_text(int32_t id) const {
  for (const auto& s : specials_) {
    if (s.id == id) return s.name;
  }
  return sanitize_utf8(token_bytes(id));
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  return sanitize_utf8(decode_bytes(ids));
}

std::string StreamDecoder::push(int32_t id) {
  const int32_t one[] = {id};
  // decode_bytes of a single token strips the dummy prefix only for the first text a stream produces.
  const std::string& bytes = tokenizer_->token_bytes(id);
  if (bytes.empty()) return {};
  if (first_) {
    pending_ += tokenizer_->decode_bytes(one);
    first_ = false;
  } else {
    pending_ += bytes;
  }
  std::string out;
  const std::size_t used = append_valid(pending_, out, false);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out;
  append_valid(pending_, out, true);
  pending_.clear();
  return out;
}

}  // namespace agentrt::engine
