#include "tools/calculator_math.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace agentrt::tools::calc {
namespace {

[[noreturn]] void fail(std::size_t column, const std::string& message) {
  throw CalcError(column, message);
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers: size limits, exact int -> double conversions, Python's float division rules.

bool is_int(const Value& v) {
  return std::holds_alternative<mpz_class>(v);
}

// A value for an error message, cut short so a 10000-digit integer does not flood it.
std::string brief(const Value& v) {
  std::string text = format(v);
  if (text.size() > 40) text = text.substr(0, 20) + "..." + text.substr(text.size() - 10);
  return text;
}

std::string describe_count(double count) {
  if (!std::isfinite(count)) return "more than 1e+308";
  if (count < 1e15) return std::to_string(static_cast<long long>(count));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2g", count);
  return buffer;
}

[[noreturn]] void fail_too_large(std::size_t column, double digits) {
  fail(column, "result too large: it would have about " + describe_count(digits) + " digits (the limit is " +
                   std::to_string(kMaxDigits) + ")");
}

const mpz_class& ten_to_max_digits() {
  static const mpz_class power = [] {
    mpz_class p;
    mpz_ui_pow_ui(p.get_mpz_t(), 10, kMaxDigits);
    return p;
  }();
  return power;
}

// Every integer the calculator makes goes through here.
const mpz_class& checked(const mpz_class& x, std::size_t column) {
  const std::size_t estimate = mpz_sizeinbase(x.get_mpz_t(), 10);  // exact or one too many
  if (estimate <= kMaxDigits) return x;
  if (estimate == kMaxDigits + 1 && mpz_cmpabs(x.get_mpz_t(), ten_to_max_digits().get_mpz_t()) < 0) return x;
  fail(column, "result too large: the integer has more than " + std::to_string(kMaxDigits) + " digits");
}

double checked(double x, std::size_t column) {
  if (std::isinf(x)) fail(column, "result too large for a float");
  if (std::isnan(x)) fail(column, "the result is not a real number");
  return x;
}

// x as a double, or infinity where it is too large for one (for size estimates only).
double approximate(const mpz_class& x) {
  return mpz_sizeinbase(x.get_mpz_t(), 2) > 1020 ? HUGE_VAL : x.get_d();
}

// log10(|x|) for x != 0, also where x does not fit a double.
double log10_abs(const mpz_class& x) {
  long exponent = 0;
  const double mantissa = mpz_get_d_2exp(&exponent, x.get_mpz_t());
  return std::log10(std::fabs(mantissa)) + static_cast<double>(exponent) * std::log10(2.0);
}

// The double nearest to x (ties to even), like Python's float(int); GMP's own conversion truncates.
double to_double(const mpz_class& x, std::size_t column) {
  const std::size_t bits = mpz_sizeinbase(x.get_mpz_t(), 2);
  if (bits <= 53) return x.get_d();
  if (bits > 1100) fail(column, "integer too large to convert to a float");
  // Keep 55 bits and fold every lower bit into the last one (a sticky bit), so the hardware's one rounding of
  // the 55-bit integer to 53 bits is the correct rounding of x.
  const mpz_class magnitude = abs(x);
  const std::size_t shift = bits - 55;
  mpz_class top;
  mpz_tdiv_q_2exp(top.get_mpz_t(), magnitude.get_mpz_t(), shift);
  unsigned long long kept = mpz_get_ui(top.get_mpz_t());
  if (mpz_scan1(magnitude.get_mpz_t(), 0) < shift) kept |= 1;
  const double result = std::ldexp(static_cast<double>(kept), static_cast<int>(shift));
  if (std::isinf(result)) fail(column, "integer too large to convert to a float");
  return sgn(x) < 0 ? -result : result;
}

double to_double(const Value& v, std::size_t column) {
  return is_int(v) ? to_double(std::get<mpz_class>(v), column) : std::get<double>(v);
}

// a / b correctly rounded, like Python's int / int (converting both to double first would round twice).
double true_divide(const mpz_class& a, const mpz_class& b, std::size_t column) {
  if (b == 0) fail(column, "division by zero");
  const bool negative = (sgn(a) < 0) != (sgn(b) < 0);
  if (a == 0) return negative ? -0.0 : 0.0;
  const std::size_t a_bits = mpz_sizeinbase(a.get_mpz_t(), 2);
  const std::size_t b_bits = mpz_sizeinbase(b.get_mpz_t(), 2);
  if (a_bits <= 53 && b_bits <= 53) return a.get_d() / b.get_d();
  // Scale so the quotient has 55 or 56 bits, then fold the remainder into a sticky bit (see to_double).
  mpz_class numerator = abs(a), denominator = abs(b);
  const long shift = 55 + static_cast<long>(b_bits) - static_cast<long>(a_bits);
  if (shift > 0) numerator <<= shift;
  if (shift < 0) denominator <<= -shift;
  mpz_class quotient, remainder;
  mpz_tdiv_qr(quotient.get_mpz_t(), remainder.get_mpz_t(), numerator.get_mpz_t(), denominator.get_mpz_t());
  unsigned long long kept = mpz_get_ui(quotient.get_mpz_t());
  if (remainder != 0) kept |= 1;
  const double result = checked(std::ldexp(static_cast<double>(kept), static_cast<int>(-shift)), column);
  return negative ? -result : result;
}

// Python's float floor division and modulo (Objects/floatobject.c, float_divmod).
struct FloatDivMod {
  double quotient;
  double remainder;
};
FloatDivMod float_divmod(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  return {floordiv, mod};
}

// Round half to even at the integer p: the nearest multiple of p to x, x and p exact.
mpz_class round_to_multiple(const mpz_class& x, const mpz_class& p) {
  mpz_class q, r;
  mpz_fdiv_qr(q.get_mpz_t(), r.get_mpz_t(), x.get_mpz_t(), p.get_mpz_t());
  const int half = cmp(mpz_class(r * 2), p);
  if (half > 0 || (half == 0 && mpz_odd_p(q.get_mpz_t()))) q += 1;
  return q * p;
}

mpz_class power_of_ten(unsigned long n) {
  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, n);
  return p;
}

int compare(const Value& a, const Value& b) {
  if (is_int(a) && is_int(b)) return cmp(std::get<mpz_class>(a), std::get<mpz_class>(b));
  if (is_int(a)) return mpz_cmp_d(std::get<mpz_class>(a).get_mpz_t(), std::get<double>(b));
  if (is_int(b)) return -mpz_cmp_d(std::get<mpz_class>(b).get_mpz_t(), std::get<double>(a));
  const double x = std::get<double>(a), y = std::get<double>(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Operators.

Value int_power(const mpz_class& base, const mpz_class& exponent, std::size_t column) {
  if (base == 0) return mpz_class(exponent == 0 ? 1 : 0);
  if (base == 1) return mpz_class(1);
  if (base == -1) return mpz_class(mpz_odd_p(exponent.get_mpz_t()) ? -1 : 1);
  const double digits = approximate(exponent) * log10_abs(base);
  if (!mpz_fits_ulong_p(exponent.get_mpz_t()) || digits > static_cast<double>(kMaxDigits) + 1) {
    fail_too_large(column, std::max(digits, 0.0) + 1);
  }
  mpz_class result;
  mpz_pow_ui(result.get_mpz_t(), base.get_mpz_t(), exponent.get_ui());
  return checked(result, column);
}

double float_power(double x, double y, std::size_t column) {
  if (x == 0.0 && y < 0.0) fail(column, "zero cannot be raised to a negative power");
  if (x < 0.0 && y != std::floor(y)) {
    fail(column, "a negative number raised to a non-integer power has no real value");
  }
  return checked(std::pow(x, y), column);
}

Value power(const Value& a, const Value& b, std::size_t column) {
  if (is_int(a) && is_int(b)) {
    const auto& base = std::get<mpz_class>(a);
    const auto& exponent = std::get<mpz_class>(b);
    if (sgn(exponent) >= 0) return int_power(base, exponent, column);
  }
  return float_power(to_double(a, column), to_double(b, column), column);
}

}  // namespace

Value apply_binary(TokenKind op, const Value& a, const Value& b, std::size_t column) {
  if (op == TokenKind::Power) return power(a, b, column);
  if (is_int(a) && is_int(b)) {
    const auto& x = std::get<mpz_class>(a);
    const auto& y = std::get<mpz_class>(b);
    mpz_class r;
    switch (op) {
      case TokenKind::Plus:
        return checked(mpz_class(x + y), column);
      case TokenKind::Minus:
        return checked(mpz_class(x - y), column);
      case TokenKind::Star:
        return checked(mpz_class(x * y), column);
      case TokenKind::Slash:
        return true_divide(x, y, column);
      case TokenKind::SlashSlash:
        if (y == 0) fail(column, "division by zero");
        mpz_fdiv_q(r.get_mpz_t(), x.get_mpz_t(), y.get_mpz_t());
        return r;
      case TokenKind::Percent:
        if (y == 0) fail(column, "modulo by zero");
        mpz_fdiv_r(r.get_mpz_t(), x.get_mpz_t(), y.get_mpz_t());
        return r;
      default:
        break;
    }
  }
  const double x = to_double(a, column), y = to_double(b, column);
  switch (op) {
    case TokenKind::Plus:
      return checked(x + y, column);
    case TokenKind::Minus:
      return checked(x - y, column);
    case TokenKind::Star:
      return checked(x * y, column);
    case TokenKind::Slash:
      if (y == 0.0) fail(column, "division by zero");
      return checked(x / y, column);
    case TokenKind::SlashSlash:
      if (y == 0.0) fail(column, "division by zero");
      return checked(float_divmod(x, y).quotient, column);
    case TokenKind::Percent:
      if (y == 0.0) fail(column, "modulo by zero");
      return checked(float_divmod(x, y).remainder, column);
    default:
      break;
  }
  fail(column, "unknown operator");
}

Value negate(const Value& v) {
  if (is_int(v)) return mpz_class(-std::get<mpz_class>(v));
  return -std::get<double>(v);
}

namespace {

// An integer argument; floats with an integral value are accepted and converted exactly.
mpz_class integer_arg(const Value& v, const char* function, std::size_t column) {
  if (is_int(v)) return std::get<mpz_class>(v);
  const double d = std::get<double>(v);
  if (d != std::floor(d)) fail(column, std::string(function) + "() needs integers, got " + brief(v));
  return mpz_class(d);
}

mpz_class non_negative_arg(const Value& v, const char* function, std::size_t column) {
  mpz_class n = integer_arg(v, function, column);
  if (sgn(n) < 0) fail(column, std::string(function) + "() needs non-negative integers, got " + brief(v));
  return n;
}

// A function of one real argument that only needs the caller's domain check.
Function real_function(const char* name, double (*f)(double), std::function<bool(double)> in_domain = nullptr,
                       const char* domain = "") {
  return {name, 1, 1, [=](const Args& args, std::size_t column) -> Value {
            const double x = to_double(args[0], column);
            if (in_domain && !in_domain(x)) {
              fail(column, std::string(name) + "() " + domain + ", got " + brief(args[0]));
            }
            return checked(f(x), column);
          }};
}

// A logarithm `f` of a positive value, also for integers beyond the range of a double (as f(m) + k f(2) for
// x = m * 2^k, like Python's math.log).
double logarithm(const Value& v, double (*f)(double), const char* name, std::size_t column) {
  if (compare(v, Value(0.0)) <= 0)
    fail(column, std::string(name) + "() needs a positive argument, got " + brief(v));
  if (is_int(v) && mpz_sizeinbase(std::get<mpz_class>(v).get_mpz_t(), 2) > 1000) {
    long exponent = 0;
    const double mantissa = mpz_get_d_2exp(&exponent, std::get<mpz_class>(v).get_mpz_t());
    return f(mantissa) + static_cast<double>(exponent) * f(2.0);
  }
  return f(to_double(v, column));
}

Function log_function(const char* name, double (*f)(double)) {
  return {name, 1, 1,
          [=](const Args& args, std::size_t column) -> Value { return logarithm(args[0], f, name, column); }};
}

double ln(double x) {
  return std::log(x);
}

Value natural_log_with_base(const Args& args, std::size_t column) {
  const double x = logarithm(args[0], ln, "log", column);
  if (args.size() == 1) return x;
  const double base = logarithm(args[1], ln, "log", column);
  if (base == 0.0) fail(column, "log() base must not be 1");
  return checked(x / base, column);
}

// Also for integers beyond the range of a double whose root is within it, like sqrt(10**400), which Python's
// math.sqrt refuses.
Value square_root(const Args& args, std::size_t column) {
  const Value& x = args[0];
  if (compare(x, Value(0.0)) < 0)
    fail(column, "sqrt() of a negative number has no real value, got " + brief(x));
  if (!is_int(x) || mpz_sizeinbase(std::get<mpz_class>(x).get_mpz_t(), 2) <= 1000) {
    return checked(std::sqrt(to_double(x, column)), column);
  }
  // r = isqrt(n) has over 500 bits, so no double lies strictly between r and r + 1: the root rounds like r
  // when it is exact and like r + 1/2 otherwise; 2r + 1 carries that half as a sticky last bit.
  const auto& n = std::get<mpz_class>(x);
  mpz_class root;
  mpz_sqrt(root.get_mpz_t(), n.get_mpz_t());
  if (mpz_sizeinbase(root.get_mpz_t(), 2) > 1024) fail(column, "result too large for a float");
  if (root * root == n) return to_double(root, column);
  return std::ldexp(to_double(mpz_class(2 * root + 1), column), -1);
}

Value round_value(const Args& args, std::size_t column) {
  const Value& x = args[0];
  if (args.size() == 1) {
    if (is_int(x)) return x;
    const double d = std::get<double>(x);
    const double below = std::floor(d);
    const double fraction = d - below;  // exact for doubles
    const bool up = fraction > 0.5 || (fraction == 0.5 && std::fmod(below, 2.0) != 0.0);
    return mpz_class(up ? below + 1.0 : below);
  }
  const mpz_class ndigits = integer_arg(args[1], "round", column);
  if (is_int(x)) {
    const auto& n = std::get<mpz_class>(x);
    if (sgn(ndigits) >= 0) return n;
    // Past the number's own length every digit rounds away.
    if (cmp(mpz_class(-ndigits), mpz_sizeinbase(n.get_mpz_t(), 10) + 1) > 0) return mpz_class(0);
    return round_to_multiple(n, power_of_ten(mpz_class(-ndigits).get_ui()));
  }
  const double d = std::get<double>(x);
  // Python's limits: beyond them the answer is x itself or zero.
  if (ndigits > 323 || d == 0.0) return d;
  if (ndigits < -308) return std::copysign(0.0, d);
  // Round the exact binary value of d (m * 2^e) at 10^-ndigits, half to even.
  int binary_exponent = 0;
  const double fraction = std::frexp(d, &binary_exponent);
  mpz_class numerator(std::ldexp(fraction, 53));
  mpz_class denominator(1);
  const long e = binary_exponent - 53;
  if (e >= 0) numerator <<= e;
  if (e < 0) denominator <<= -e;
  const long n = ndigits.get_si();
  if (n >= 0) numerator *= power_of_ten(n);
  if (n < 0) denominator *= power_of_ten(-n);
  const mpz_class rounded = round_to_multiple(numerator, denominator) / denominator;
  const double result = n >= 0 ? true_divide(rounded, power_of_ten(n), column)
                               : to_double(mpz_class(rounded * power_of_ten(-n)), column);
  return result == 0.0 ? std::copysign(0.0, d) : result;
}

Value min_or_max(const Args& args, int sign) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (compare(args[i], args[best]) * sign > 0) best = i;
  }
  return args[best];
}

// Decimal digits of n! (about), from the log-gamma function.
double factorial_digits(double n) {
  return std::lgamma(n + 1.0) / std::numbers::ln10 + 1.0;
}

Value factorial(const Args& args, std::size_t column) {
  const mpz_class n = non_negative_arg(args[0], "factorial", column);
  const double digits = factorial_digits(approximate(n));
  if (!mpz_fits_ulong_p(n.get_mpz_t()) || digits > static_cast<double>(kMaxDigits) + 10) {
    fail_too_large(column, digits);
  }
  mpz_class result;
  mpz_fac_ui(result.get_mpz_t(), n.get_ui());
  return checked(result, column);
}

// n! / (n-k)! / k! with k <= n, refused when its estimated size is past the limit.
mpz_class binomial(const mpz_class& n, const mpz_class& k, std::size_t column) {
  const mpz_class n_minus_k = n - k;
  const mpz_class& m = k < n_minus_k ? k : n_minus_k;
  if (m == 0) return 1;
  double digits;
  if (mpz_sizeinbase(n.get_mpz_t(), 2) <= 53) {
    const double nd = n.get_d(), md = m.get_d();
    digits = (std::lgamma(nd + 1) - std::lgamma(md + 1) - std::lgamma(nd - md + 1)) / std::numbers::ln10 + 1;
  } else {
    // An upper bound, tight when m is much smaller than n (it must be, for the result to be small).
    const double md = approximate(m);
    digits = md * log10_abs(n) - std::lgamma(md + 1) / std::numbers::ln10 + 1;
  }
  if (!mpz_fits_ulong_p(m.get_mpz_t()) || digits > static_cast<double>(kMaxDigits) + 10) {
    fail_too_large(column, digits);
  }
  mpz_class result;
  mpz_bin_ui(result.get_mpz_t(), n.get_mpz_t(), m.get_ui());
  return checked(result, column);
}

Value comb(const Args& args, std::size_t column) {
  const mpz_class n = non_negative_arg(args[0], "comb", column);
  const mpz_class k = non_negative_arg(args[1], "comb", column);
  if (k > n) return mpz_class(0);
  return binomial(n, k, column);
}

Value perm(const Args& args, std::size_t column) {
  if (args.size() == 1) return factorial(args, column);
  const mpz_class n = non_negative_arg(args[0], "perm", column);
  const mpz_class k = non_negative_arg(args[1], "perm", column);
  if (k > n) return mpz_class(0);
  // n!/(n-k)! = comb(n, k) * k!; both factors are no larger than the result, so each passes the size checks
  // exactly when a result of that size could.
  const mpz_class c = binomial(n, k, column);
  const mpz_class f = std::get<mpz_class>(factorial({Value(k)}, column));
  return checked(mpz_class(c * f), column);
}

Value gcd_or_lcm(const Args& args, bool lcm, std::size_t column) {
  mpz_class result = lcm ? 1 : 0;
  for (const auto& v : args) {
    const mpz_class n = integer_arg(v, lcm ? "lcm" : "gcd", column);
    if (lcm) {
      mpz_lcm(result.get_mpz_t(), result.get_mpz_t(), n.get_mpz_t());
      checked(result, column);
    } else {
      mpz_gcd(result.get_mpz_t(), result.get_mpz_t(), n.get_mpz_t());
    }
  }
  return result;
}

const std::vector<Function>& functions() {
  static const std::vector<Function> table = [] {
    const auto unit_interval = [](double x) { return x >= -1 && x <= 1; };
    return std::vector<Function>{
        {"sqrt", 1, 1, square_root},
        real_function("cbrt", [](double x) { return std::cbrt(x); }),
        real_function("exp", [](double x) { return std::exp(x); }),
        log_function("ln", ln),
        {"log", 1, 2, natural_log_with_base},
        log_function("log10", [](double x) { return std::log10(x); }),
        log_function("log2", [](double x) { return std::log2(x); }),
        real_function("sin", [](double x) { return std::sin(x); }),
        real_function("cos", [](double x) { return std::cos(x); }),
        real_function("tan", [](double x) { return std::tan(x); }),
        real_function(
            "asin", [](double x) { return std::asin(x); }, unit_interval, "needs a value in [-1, 1]"),
        real_function(
            "acos", [](double x) { return std::acos(x); }, unit_interval, "needs a value in [-1, 1]"),
        real_function("atan", [](double x) { return std::atan(x); }),
        {"abs", 1, 1,
         [](const Args& a, std::size_t) -> Value {
           if (is_int(a[0])) return mpz_class(abs(std::get<mpz_class>(a[0])));
           return std::fabs(std::get<double>(a[0]));
         }},
        {"floor", 1, 1,
         [](const Args& a, std::size_t) -> Value {
           return is_int(a[0]) ? a[0] : Value(mpz_class(std::floor(std::get<double>(a[0]))));
         }},
        {"ceil", 1, 1,
         [](const Args& a, std::size_t) -> Value {
           return is_int(a[0]) ? a[0] : Value(mpz_class(std::ceil(std::get<double>(a[0]))));
         }},
        {"round", 1, 2, round_value},
        {"min", 1, kVariadic, [](const Args& a, std::size_t) { return min_or_max(a, -1); }},
        {"max", 1, kVariadic, [](const Args& a, std::size_t) { return min_or_max(a, 1); }},
        {"factorial", 1, 1, factorial},
        {"gcd", 0, kVariadic, [](const Args& a, std::size_t column) { return gcd_or_lcm(a, false, column); }},
        {"lcm", 0, kVariadic, [](const Args& a, std::size_t column) { return gcd_or_lcm(a, true, column); }},
        {"comb", 2, 2, comb},
        {"perm", 1, 2, perm},
    };
  }();
  return table;
}

}  // namespace

const Function* find_function(std::string_view name) {
  for (const auto& f : functions()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::optional<double> find_constant(std::string_view name) {
  if (name == "pi" || name == "\u03C0") return std::numbers::pi;
  if (name == "e") return std::numbers::e;
  return std::nullopt;
}

std::string function_names() {
  std::string names;
  for (const auto& f : functions()) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

std::string arity_message(const Function& f, std::size_t given) {
  const auto plural = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); };
  std::string expected;
  if (f.min_args == f.max_args) {
    expected = "exactly " + plural(f.min_args);
  } else if (f.max_args == kVariadic) {
    expected = "at least " + plural(f.min_args);
  } else {
    expected = std::to_string(f.min_args) + " or " + plural(f.max_args);
  }
  return std::string(f.name) + "() takes " + expected + " (" + std::to_string(given) + " given)";
}

}  // namespace agentrt::tools::calc
