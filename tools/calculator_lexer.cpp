#include "tools/calculator_lexer.h"

#include <cstdint>

namespace agentrt::tools::calc {

CalcError::CalcError(std::size_t column, const std::string& message)
    : std::runtime_error("error at column " + std::to_string(column) + ": " + message),
      column_(column),
      detail_(message) {}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

// Length in bytes of the UTF-8 sequence at s[i] (and its code point); 0 when it is not valid UTF-8.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t lead = byte(i);
  std::size_t length = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  // Overlong forms and surrogates are not valid UTF-8.
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

// A number literal starting at s[i]: digits, an optional fraction, an optional exponent (only when digits
// follow it, so "2e" is the number 2 followed by the name e). Returns its length and whether it is a float.
std::size_t scan_number(std::string_view s, std::size_t i, bool& is_float) {
  std::size_t j = i;
  is_float = false;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j < s.size() && s[j] == '.') {
    is_float = true;
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
  }
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    std::size_t k = j + 1;
    if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
    if (k < s.size() && is_digit(s[k])) {
      while (k < s.size() && is_digit(s[k])) ++k;
      is_float = true;
      j = k;
    }
  }
  return j - i;
}

}  // namespace

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  std::size_t column = 1;
  const auto push = [&](TokenKind kind, std::size_t bytes, std::size_t columns = 0) {
    tokens.push_back(Token{kind, std::string(s.substr(i, bytes)), column});
    i += bytes;
    column += columns == 0 ? bytes : columns;
  };
  while (i < s.size()) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      ++column;
    } else if (is_digit(c) || (c == '.' && is_digit(next))) {
      bool is_float = false;
      const std::size_t length = scan_number(s, i, is_float);
      push(is_float ? TokenKind::Float : TokenKind::Integer, length);
    } else if (is_name_start(c)) {
      std::size_t j = i;
      while (j < s.size() && is_name_char(s[j])) ++j;
      push(TokenKind::Name, j - i);
    } else if (c == '*' && next == '*') {
      push(TokenKind::Power, 2);
    } else if (c == '/' && next == '/') {
      push(TokenKind::SlashSlash, 2);
    } else if (c == '+') {
      push(TokenKind::Plus, 1);
    } else if (c == '-') {
      push(TokenKind::Minus, 1);
    } else if (c == '*') {
      push(TokenKind::Star, 1);
    } else if (c == '/') {
      push(TokenKind::Slash, 1);
    } else if (c == '%') {
      push(TokenKind::Percent, 1);
    } else if (c == '^') {
      push(TokenKind::Power, 1);
    } else if (c == '(') {
      push(TokenKind::LeftParen, 1);
    } else if (c == ')') {
      push(TokenKind::RightParen, 1);
    } else if (c == ',') {
      push(TokenKind::Comma, 1);
    } else {
      char32_t code_point = 0;
      const std::size_t length = decode_utf8(s, i, code_point);
      if (length == 0) throw CalcError(column, "the expression is not valid UTF-8");
      // The signs people paste from documents: multiplication, division, minus, and the letter pi.
      if (code_point == U'\u00D7') {
        push(TokenKind::Star, length, 1);
      } else if (code_point == U'\u00F7') {
        push(TokenKind::Slash, length, 1);
      } else if (code_point == U'\u2212') {
        push(TokenKind::Minus, length, 1);
      } else if (code_point == U'\u03C0') {
        push(TokenKind::Name, length, 1);
      } else if (code_point == U'=') {
        throw CalcError(column, "unexpected '='; give only the expression to evaluate, e.g. 2*(3+4)");
      } else {
        throw CalcError(column, "unexpected character '" + std::string(s.substr(i, length)) + "'");
      }
    }
  }
  tokens.push_back(Token{TokenKind::End, "", column});
  return tokens;
}

bool ends_operand(TokenKind kind) {
  return kind == TokenKind::Integer || kind == TokenKind::Float || kind == TokenKind::Name ||
         kind == TokenKind::RightParen;
}

bool starts_operand(TokenKind kind) {
  return kind == TokenKind::Integer || kind == TokenKind::Float || kind == TokenKind::Name ||
         kind == TokenKind::LeftParen;
}

}  // namespace agentrt::tools::calc
