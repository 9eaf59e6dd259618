#include "tools/calculator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "tools/calculator_math.h"

namespace agentrt::tools::calc {
namespace {

[[noreturn]] void fail(std::size_t column, const std::string& message) {
  throw CalcError(column, message);
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing into a tree (so every syntax error is found before anything is computed), then evaluation.

struct Node {
  enum class Kind { Literal, Negate, Binary, Call };
  Kind kind = Kind::Literal;
  std::size_t column = 1;
  Value literal;
  TokenKind op = TokenKind::End;
  const Function* function = nullptr;
  std::vector<std::unique_ptr<Node>> children;
};
using NodePtr = std::unique_ptr<Node>;

NodePtr make_node(Node::Kind kind, std::size_t column) {
  auto node = std::make_unique<Node>();
  node->kind = kind;
  node->column = column;
  return node;
}

// Python's rule for a literal out of the double range: too large is an error here (Python gives inf), too
// small is zero. `text` is digits with an optional '.' and an optional exponent.
double parse_float_literal(const std::string& text, std::size_t column) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) return value;
  // Out of range: the decimal exponent of the first significant digit says which way.
  const std::size_t e_pos = text.find_first_of("eE");
  const std::string mantissa = text.substr(0, e_pos);
  long long exponent = 0;
  if (e_pos != std::string::npos) {
    for (char c : text.substr(e_pos + 1)) {
      if (c >= '0' && c <= '9') exponent = std::min(exponent * 10 + (c - '0'), 1000000000LL);
    }
    if (text.find('-', e_pos) != std::string::npos) exponent = -exponent;
  }
  const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  const long long position =
      first < point ? static_cast<long long>(point - first) : -static_cast<long long>(first - point - 1);
  if (position + exponent > 0) fail(column, "the number " + text + " is too large for a float");
  return 0.0;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  NodePtr parse() {
    if (peek().kind == TokenKind::End) fail(1, "empty expression");
    NodePtr root = parse_sum();
    if (peek().kind != TokenKind::End) fail_unexpected_after_operand("the end of the expression");
    return root;
  }

 private:
  const Token& peek() const { return tokens_[position_]; }
  const Token& take() { return tokens_[position_++]; }
  bool at(TokenKind kind) const { return peek().kind == kind; }

  NodePtr binary(const Token& op, NodePtr left, NodePtr right) {
    auto node = make_node(Node::Kind::Binary, op.column);
    node->op = op.kind;
    node->children.push_back(std::move(left));
    node->children.push_back(std::move(right));
    return node;
  }

  NodePtr parse_sum() {
    NodePtr left = parse_product();
    while (at(TokenKind::Plus) || at(TokenKind::Minus)) {
      const Token& op = take();
      left = binary(op, std::move(left), parse_product());
    }
    return left;
  }

  NodePtr parse_product() {
    NodePtr left = parse_unary();
    while (at(TokenKind::Star) || at(TokenKind::Slash) || at(TokenKind::SlashSlash) ||
           at(TokenKind::Percent)) {
      const Token& op = take();
      left = binary(op, std::move(left), parse_unary());
    }
    return left;
  }

  // Every level of nesting passes through here, so this is where the depth limit lives.
  NodePtr parse_unary() {
    if (++depth_ > kMaxDepth) {
      fail(peek().column,
           "the expression is nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
    }
    NodePtr result;
    if (at(TokenKind::Plus) || at(TokenKind::Minus)) {
      const Token& sign = take();
      NodePtr operand = parse_unary();
      if (sign.kind == TokenKind::Plus) {
        result = std::move(operand);
      } else {
        result = make_node(Node::Kind::Negate, sign.column);
        result->children.push_back(std::move(operand));
      }
    } else {
      result = parse_power();
    }
    --depth_;
    return result;
  }

  NodePtr parse_power() {
    NodePtr base = parse_primary();
    if (!at(TokenKind::Power)) return base;
    const Token& op = take();
    return binary(op, std::move(base), parse_unary());
  }

  NodePtr parse_primary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::Integer: {
        take();
        auto node = make_node(Node::Kind::Literal, token.column);
        node->literal = mpz_class(token.text, 10);
        return node;
      }
      case TokenKind::Float: {
        take();
        auto node = make_node(Node::Kind::Literal, token.column);
        node->literal = parse_float_literal(token.text, token.column);
        return node;
      }
      case TokenKind::Name:
        return parse_name();
      case TokenKind::LeftParen: {
        const Token& open = take();
        NodePtr inner = parse_sum();
        close_paren(open);
        return inner;
      }
      default:
        fail_expected_operand();
    }
  }

  NodePtr parse_name() {
    const Token& name = take();
    const Function* function = find_function(name.text);
    const bool called = at(TokenKind::LeftParen);
    if (!called) {
      if (const auto constant = find_constant(name.text)) {
        auto node = make_node(Node::Kind::Literal, name.column);
        node->literal = *constant;
        return node;
      }
      if (function != nullptr)
        fail(name.column, name.text + " is a function; call it like " + name.text + "(x)");
      fail(name.column,
           "unknown name '" + name.text + "'" + hint_or(name.text, " (the constants are pi and e)"));
    }
    if (function == nullptr) {
      if (find_constant(name.text)) fail(name.column, name.text + " is a constant, not a function");
      fail(name.column, "unknown function '" + name.text + "'" +
                            hint_or(name.text, " (the functions are " + function_names() + ")"));
    }
    const Token& open = take();
    auto node = make_node(Node::Kind::Call, name.column);
    node->function = function;
    if (!at(TokenKind::RightParen)) {
      while (true) {
        node->children.push_back(parse_sum());
        if (!at(TokenKind::Comma)) break;
        take();
      }
    }
    close_paren(open);
    const std::size_t given = node->children.size();
    if (given < function->min_args || given > function->max_args) {
      fail(name.column, arity_message(*function, given));
    }
    return node;
  }

  void close_paren(const Token& open) {
    if (at(TokenKind::RightParen)) {
      take();
      return;
    }
    if (at(TokenKind::End)) fail(open.column, "'(' is never closed");
    fail_unexpected_after_operand("')'");
  }

  // Names are case-sensitive; say so when only the case is wrong, and list the known names otherwise.
  static std::string hint_or(const std::string& name, const std::string& otherwise) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower != name && (find_function(lower) != nullptr || find_constant(lower))) {
      return " (names are case-sensitive: did you mean '" + lower + "'?)";
    }
    return otherwise;
  }

  // After a complete operand, the next token is neither an operator nor what closes the current context.
  [[noreturn]] void fail_unexpected_after_operand(const std::string& expected) {
    const Token& token = peek();
    const Token& before = tokens_[position_ - 1];
    if (starts_operand(token.kind) && ends_operand(before.kind)) {
      const bool plain = token.kind != TokenKind::LeftParen && before.kind != TokenKind::RightParen;
      fail(token.column,
           "missing operator before '" + token.text + "' (implicit multiplication is not supported: " +
               (plain ? "write " + before.text + "*" + token.text : "put * between the operands") + ")");
    }
    if (token.kind == TokenKind::RightParen) fail(token.column, "unmatched ')'");
    if (token.kind == TokenKind::Comma && expected != "')'") {
      fail(token.column,
           "unexpected ',' (commas only separate function arguments; write numbers without thousands "
           "separators)");
    }
    fail(token.column, "unexpected '" + token.text + "' (expected an operator or " + expected + ")");
  }

  // Where a number, a name or '(' must come.
  [[noreturn]] void fail_expected_operand() {
    const Token& token = peek();
    const std::string after = position_ > 0 ? " after '" + tokens_[position_ - 1].text + "'" : "";
    if (token.kind == TokenKind::End) {
      fail(token.column, "the expression ends too early: expected a number, a name or '('" + after);
    }
    fail(token.column, "unexpected '" + token.text + "'" + after + " (expected a number, a name or '(')");
  }

  std::vector<Token> tokens_;
  std::size_t position_ = 0;
  std::size_t depth_ = 0;
};

Value evaluate_node(const Node& node) {
  switch (node.kind) {
    case Node::Kind::Literal:
      return node.literal;
    case Node::Kind::Negate:
      return negate(evaluate_node(*node.children[0]));
    case Node::Kind::Binary:
      return apply_binary(node.op, evaluate_node(*node.children[0]), evaluate_node(*node.children[1]),
                          node.column);
    case Node::Kind::Call: {
      Args args;
      args.reserve(node.children.size());
      for (const auto& child : node.children) args.push_back(evaluate_node(*child));
      return node.function->apply(args, node.column);
    }
  }
  fail(node.column, "unknown expression");
}

}  // namespace

Value evaluate(std::string_view expression) {
  if (expression.size() > kMaxInputChars) {
    // The column of the first character past the limit (counted in characters, like every column).
    const auto columns = std::count_if(expression.begin(), expression.begin() + kMaxInputChars,
                                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
    fail(static_cast<std::size_t>(columns) + 1,
         "the expression is too long (" + std::to_string(expression.size()) + " bytes; the limit is " +
             std::to_string(kMaxInputChars) + ")");
  }
  Parser parser(tokenize(expression));
  const NodePtr root = parser.parse();
  return evaluate_node(*root);
}

std::string format_double(double value) {
  if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // The shortest digits that read back to `value`, then Python's repr layout: positional notation while the
  // decimal exponent is in [-4, 16), scientific with a signed two-digit exponent otherwise.
  char buffer[64];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, std::fabs(value), std::chars_format::scientific);
  const std::string text(buffer, end);
  const std::size_t e_pos = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  const int exponent = std::stoi(text.substr(e_pos + 1));
  const int point = exponent + 1;  // digits go before the decimal point
  std::string out = value < 0 ? "-" : "";
  if (point > 16 || point < -3) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_text;
  }
  if (point <= 0) return out + "0." + std::string(-point, '0') + digits;
  if (static_cast<std::size_t>(point) >= digits.size()) {
    return out + digits + std::string(point - digits.size(), '0') + ".0";
  }
  return out + digits.substr(0, point) + "." + digits.substr(point);
}

std::string format(const Value& value) {
  if (std::holds_alternative<mpz_class>(value)) return std::get<mpz_class>(value).get_str(10);
  return format_double(std::get<double>(value));
}

std::string calculate(std::string_view expression) {
  return format(evaluate(expression));
}

}  // namespace agentrt::tools::calc
