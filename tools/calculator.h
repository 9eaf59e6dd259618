// The calculator: evaluates one arithmetic expression with Python 3's semantics where Python has an answer.
//
// - Integers are exact (GMP) as long as the operations keep them integers: + - * // % and ** with a
//   non-negative exponent, abs, floor, ceil, round, min, max, factorial, gcd, lcm, comb, perm.
// - `/` is true division and always gives a float, like Python 3: 6/3 is 2.0. An integer mixed with a float
//   becomes a float (correctly rounded); an integer power with a negative exponent is a float.
// - Precedence (loosest first): + -, then * / // %, then unary + -, then ^ and ** (both mean power; they are
//   right-associative and their right side may carry a sign): -2^2 = -4, 2^-1 = 0.5, 2^3^2 = 512.
// - `//` floors and `%` takes the sign of the divisor: -7 // 2 = -4, -7 % 2 = 1.
// - Floats print like Python's repr (shortest text that reads back to the same double): 0.1, 2.0, 1e+16.
// - Functions: sqrt cbrt exp ln log log10 log2 sin cos tan asin acos atan abs floor ceil round min max
//   factorial gcd lcm comb perm. log(x, base) takes a base; round(x, n) rounds to n decimals (half to even,
//   on the exact binary value, like Python); floor, ceil and round(x) give integers.
// - Constants pi and e (also written as the letter pi). The signs U+00D7, U+00F7 and U+2212 mean * / and -.
// - Where it differs from Python, on purpose: ^ is power (not xor); the integer-only functions also take
//   floats with an integral value (factorial(5.0) = 120); sqrt and the logarithms take integers too large
//   for a double (sqrt(10**400) = 1e+200); a float literal too large for a double (1e400) is an error, not
//   inf; a negative number to a fractional power is an error, not a complex number.
// - Limits: kMaxInputChars bytes of input, kMaxDepth levels of nesting, kMaxDigits decimal digits in any
//   integer (checked before a power, factorial, comb or perm is computed). Floats never become inf or nan:
//   an overflow, or a value with no real result, is an error.
// - Every error is a CalcError naming the 1-based column (in characters) it refers to:
//   "error at column 5: division by zero".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <gmpxx.h>

#include "tools/calculator_lexer.h"

namespace agentrt::tools::calc {

inline constexpr std::size_t kMaxInputChars = 4096;
inline constexpr std::size_t kMaxDepth = 200;
inline constexpr std::size_t kMaxDigits = 10000;

// An exact integer or a double.
using Value = std::variant<mpz_class, double>;

// The value of `expression`; throws CalcError (with the column) for every kind of bad input.
Value evaluate(std::string_view expression);

// Integers in decimal; doubles like Python's repr.
std::string format(const Value& value);
std::string format_double(double value);

// evaluate() then format().
std::string calculate(std::string_view expression);

}  // namespace agentrt::tools::calc
