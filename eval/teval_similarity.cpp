#include "eval/teval_similarity.h"

#include <cmath>
#include <map>

namespace agentrt::eval::teval {
namespace {

bool is_cjk(char32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
         (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;  // lone surrogates cannot be UTF-8
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

char32_t next_code_point(std::string_view text, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  size_t len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++pos;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++pos;
    return 0xFFFD;
  }
  if (pos + len > text.size()) {
    ++pos;
    return 0xFFFD;
  }
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if ((b & 0xC0) != 0x80) {
      ++pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos += len;
  return cp;
}

bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
  }
  // Punctuation, symbols, spaces and emoji blocks separate words; everything else non-ASCII is a letter.
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  if (cp >= 0xFE10 && cp <= 0xFE6F) return false;
  if ((cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
      (cp >= 0xFF5B && cp <= 0xFF65)) {
    return false;
  }
  if (cp == 0xFFFD || cp == 0xFEFF) return false;
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;
  return true;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (size_t pos = 0; pos < text.size();) {
    const char32_t cp = next_code_point(text, pos);
    if (is_cjk(cp)) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
      std::string one;
      append_utf8(one, cp);
      words.push_back(std::move(one));
    } else if (is_word_code_point(cp)) {
      append_utf8(current, (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp);
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

double lexical_similarity(std::string_view a, std::string_view b) {
  std::map<std::string, double> ca;
  std::map<std::string, double> cb;
  for (auto& w : words_of(a)) ca[std::move(w)] += 1;
  for (auto& w : words_of(b)) cb[std::move(w)] += 1;
  if (ca.empty() && cb.empty()) return 1.0;
  if (ca.empty() || cb.empty()) return 0.0;
  double dot = 0;
  double na = 0;
  double nb = 0;
  for (const auto& [w, n] : ca) {
    na += n * n;
    if (const auto it = cb.find(w); it != cb.end()) dot += n * it->second;
  }
  for (const auto& [w, n] : cb) nb += n * n;
  const double cos = dot / (std::sqrt(na) * std::sqrt(nb));
  return cos > 1.0 ? 1.0 : cos;
}

}  // namespace agentrt::eval::teval
