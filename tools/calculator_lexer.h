// The calculator's lexer: splits an expression into tokens, each with the 1-based column (in characters, not
// bytes) where it starts, so every later error can point at the place the user typed.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace agentrt::tools::calc {

// An error the user can act on: where it is (1-based column) and what is wrong.
class CalcError : public std::runtime_error {
 public:
  CalcError(std::size_t column, const std::string& message);
  std::size_t column() const { return column_; }
  // The message without the "error at column N: " prefix.
  const std::string& detail() const { return detail_; }

 private:
  std::size_t column_;
  std::string detail_;
};

enum class TokenKind {
  Integer,     // 123
  Float,       // 1.5, .5, 1e3
  Name,        // pi, sqrt
  Plus,        // +
  Minus,       // - or U+2212
  Star,        // * or U+00D7
  Slash,       // / or U+00F7
  SlashSlash,  // //
  Percent,     // %
  Power,       // ^ or **
  LeftParen,   // (
  RightParen,  // )
  Comma,       // ,
  End,         // after the last character
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;        // as written (for messages and number literals)
  std::size_t column = 1;  // 1-based, counted in Unicode code points
};

// Tokens of `expression`, ending with one End token whose column is one past the last character.
// Throws CalcError for characters the calculator does not know and for invalid UTF-8.
std::vector<Token> tokenize(std::string_view expression);

// Whether a token can end an operand (a number, a name or ')'); two operands in a row lack an operator.
bool ends_operand(TokenKind kind);
// Whether a token can start an operand (a number, a name or '(').
bool starts_operand(TokenKind kind);

}  // namespace agentrt::tools::calc
