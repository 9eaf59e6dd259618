// The calculator's arithmetic: Python 3's operator semantics on exact integers and doubles, the size limits,
// and the table of functions and constants. Every error is a CalcError naming the column it is given.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/calculator.h"
#include "tools/calculator_lexer.h"

namespace agentrt::tools::calc {

using Args = std::vector<Value>;

struct Function {
  const char* name;
  std::size_t min_args;
  std::size_t max_args;  // kVariadic: no upper bound
  std::function<Value(const Args&, std::size_t column)> apply;
};
inline constexpr std::size_t kVariadic = static_cast<std::size_t>(-1);

// `a op b` for op one of + - * / // % and power; `column` is the operator's, for errors.
Value apply_binary(TokenKind op, const Value& a, const Value& b, std::size_t column);
Value negate(const Value& v);

// The function or constant of that name; null / nullopt when there is none.
const Function* find_function(std::string_view name);
std::optional<double> find_constant(std::string_view name);
// "sqrt, cbrt, ...", for messages.
std::string function_names();
// "sqrt() takes exactly 1 argument (2 given)".
std::string arity_message(const Function& f, std::size_t given);

}  // namespace agentrt::tools::calc
