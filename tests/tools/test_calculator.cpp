// The calculator: values and exactness (checked against CPython 3.11), precedence, functions, every kind of
// error with its column, the limits, and the tool interface.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tools/calculator.h"
#include "tools/calculator_tool.h"
#include "tools/tools.h"

namespace agentrt::tools {
namespace {

using ::testing::HasSubstr;

struct ValueCase {
  const char* expression;
  const char* expected;  // what format() prints; Python's repr() of the same expression
};

std::ostream& operator<<(std::ostream& os, const ValueCase& c) {
  return os << c.expression;
}

class CalculatorValue : public ::testing::TestWithParam<ValueCase> {};

TEST_P(CalculatorValue, PrintsPythonsResult) {
  const auto& c = GetParam();
  EXPECT_EQ(calc::calculate(c.expression), c.expected) << c.expression;
}

INSTANTIATE_TEST_SUITE_P(Arithmetic, CalculatorValue,
                         ::testing::Values(ValueCase{"1+2", "3"}, ValueCase{"2 + 3 * 4", "14"},
                                           ValueCase{"(2 + 3) * 4", "20"}, ValueCase{"10 - 4 - 3", "3"},
                                           ValueCase{"7 // 2", "3"}, ValueCase{"-7 // 2", "-4"},
                                           ValueCase{"-7 % 2", "1"}, ValueCase{"5 % -3", "-1"},
                                           ValueCase{"7.5 // -2", "-4.0"}, ValueCase{"7.5 % -2", "-0.5"},
                                           ValueCase{"6/3", "2.0"}, ValueCase{"1/3", "0.3333333333333333"},
                                           ValueCase{"0.1 + 0.2", "0.30000000000000004"},
                                           ValueCase{"0 / -5", "-0.0"}, ValueCase{"2 * 3.5", "7.0"},
                                           ValueCase{"\t1 +\n 1 ", "2"}));

INSTANTIATE_TEST_SUITE_P(Precedence, CalculatorValue,
                         ::testing::Values(ValueCase{"-2^2", "-4"}, ValueCase{"-2**2", "-4"},
                                           ValueCase{"(-2)^2", "4"}, ValueCase{"2^-1", "0.5"},
                                           ValueCase{"2^3^2", "512"}, ValueCase{"2**3**2", "512"},
                                           ValueCase{"2^-2^2", "0.0625"}, ValueCase{"--2", "2"},
                                           ValueCase{"2--2", "4"}, ValueCase{"+3", "3"},
                                           ValueCase{"-3 * -3", "9"}, ValueCase{"2 * 3 ^ 2", "18"},
                                           ValueCase{"100 / 10 / 5", "2.0"}, ValueCase{"((((1))))", "1"},
                                           ValueCase{"10**-2", "0.01"}));

INSTANTIATE_TEST_SUITE_P(
    ExactIntegers, CalculatorValue,
    ::testing::Values(
        ValueCase{"2**100", "1267650600228229401496703205376"},
        ValueCase{"factorial(30)", "265252859812191058636308480000000"},
        ValueCase{"comb(50, 25)", "126410606437752"}, ValueCase{"2**64 - 1", "18446744073709551615"},
        ValueCase{"12345678901234567890 * 98765432109876543210", "1219326311370217952237463801111263526900"},
        ValueCase{"10**30 // 7", "142857142857142857142857142857"},
        ValueCase{"comb(10**30, 2)", "499999999999999999999999999999500000000000000000000000000000"},
        ValueCase{"0**0", "1"}, ValueCase{"1**10**100", "1"}, ValueCase{"(-1)**(10**100+1)", "-1"}));

// Integers convert to floats correctly rounded, and int / int is one correct rounding, like Python.
INSTANTIATE_TEST_SUITE_P(IntegerToFloat, CalculatorValue,
                         ::testing::Values(ValueCase{"10**30 / 7", "1.4285714285714285e+29"},
                                           ValueCase{"10**30 / 3", "3.333333333333333e+29"},
                                           ValueCase{"9007199254740993 / 1", "9007199254740992.0"},
                                           ValueCase{"(2**53 + 3) / 1", "9007199254740996.0"},
                                           ValueCase{"12345678901234567890 / 1", "1.2345678901234567e+19"},
                                           ValueCase{"2**64 // 3.0", "6.148914691236517e+18"},
                                           ValueCase{"2**-1074", "5e-324"},
                                           ValueCase{"2**0.5", "1.4142135623730951"}));

INSTANTIATE_TEST_SUITE_P(FloatFormatting, CalculatorValue,
                         ::testing::Values(ValueCase{"1e16", "1e+16"},
                                           ValueCase{"1e15", "1000000000000000.0"},
                                           ValueCase{"0.0001", "0.0001"}, ValueCase{"0.00001", "1e-05"},
                                           ValueCase{"-1e-7", "-1e-07"}, ValueCase{"2e3", "2000.0"},
                                           ValueCase{".5", "0.5"}, ValueCase{"1.", "1.0"},
                                           ValueCase{"1.5e300 * 1", "1.5e+300"}, ValueCase{"1e-400", "0.0"},
                                           ValueCase{"-0.0", "-0.0"}));

INSTANTIATE_TEST_SUITE_P(
    Functions, CalculatorValue,
    ::testing::Values(
        ValueCase{"sqrt(2)", "1.4142135623730951"}, ValueCase{"sqrt(16)", "4.0"},
        ValueCase{"sqrt(10**400)", "1e+200"}, ValueCase{"sqrt(2**2001)", "1.5153420044823246e+301"},
        ValueCase{"cbrt(-8)", "-2.0"}, ValueCase{"exp(1)", "2.718281828459045"},
        ValueCase{"exp(-1000)", "0.0"}, ValueCase{"ln(e)", "1.0"}, ValueCase{"log(100)", "4.605170185988092"},
        ValueCase{"log(8, 2)", "3.0"}, ValueCase{"log10(1000)", "3.0"},
        ValueCase{"log10(10**1000)", "1000.0"}, ValueCase{"log2(2**2000)", "2000.0"},
        ValueCase{"log2(1024)", "10.0"}, ValueCase{"sin(pi/2)", "1.0"}, ValueCase{"cos(0)", "1.0"},
        ValueCase{"tan(pi/4)", "0.9999999999999999"}, ValueCase{"asin(1)", "1.5707963267948966"},
        ValueCase{"acos(1)", "0.0"}, ValueCase{"atan(1) * 4", "3.141592653589793"}, ValueCase{"abs(-5)", "5"},
        ValueCase{"abs(-2.5)", "2.5"}, ValueCase{"floor(-2.5)", "-3"}, ValueCase{"ceil(2.1)", "3"},
        ValueCase{"ceil(-0.5)", "0"}, ValueCase{"floor(1e20)", "100000000000000000000"},
        ValueCase{"round(2.5)", "2"}, ValueCase{"round(3.5)", "4"}, ValueCase{"round(-2.5)", "-2"},
        ValueCase{"round(2.675, 2)", "2.67"}, ValueCase{"round(0.125, 2)", "0.12"},
        ValueCase{"round(-0.4, 0)", "-0.0"}, ValueCase{"round(123.456, -1)", "120.0"},
        ValueCase{"round(1250, -2)", "1200"}, ValueCase{"round(1350, -2)", "1400"},
        ValueCase{"round(2**70 + 1, -20)", "1200000000000000000000"}, ValueCase{"round(1.5, 400)", "1.5"},
        ValueCase{"min(3, 2.5, 7)", "2.5"}, ValueCase{"max(1, 1.0)", "1"},
        ValueCase{"max(2, 10**20)", "100000000000000000000"}, ValueCase{"factorial(0)", "1"},
        ValueCase{"factorial(5.0)", "120"}, ValueCase{"gcd(12, 18, 27)", "3"}, ValueCase{"gcd(-4, 6)", "2"},
        ValueCase{"gcd()", "0"}, ValueCase{"lcm(4, 6)", "12"}, ValueCase{"lcm()", "1"},
        ValueCase{"comb(5, 7)", "0"}, ValueCase{"perm(5)", "120"}, ValueCase{"perm(5, 2)", "20"},
        ValueCase{"perm(10, 20)", "0"}, ValueCase{"pi", "3.141592653589793"},
        ValueCase{"e", "2.718281828459045"}));

// Signs pasted from documents.
INSTANTIATE_TEST_SUITE_P(Unicode, CalculatorValue,
                         ::testing::Values(ValueCase{"3 \u00D7 4 \u00F7 2", "6.0"},
                                           ValueCase{"4 \u2212 1", "3"},
                                           ValueCase{"2 * \u03C0", "6.283185307179586"}));

struct ErrorCase {
  const char* expression;
  std::size_t column;
  const char* detail;  // a part of the message after "error at column N: "
};

std::ostream& operator<<(std::ostream& os, const ErrorCase& c) {
  return os << c.expression;
}

class CalculatorError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CalculatorError, NamesTheColumn) {
  const auto& c = GetParam();
  try {
    const auto value = calc::calculate(c.expression);
    ADD_FAILURE() << c.expression << " gave " << value;
  } catch (const calc::CalcError& e) {
    EXPECT_EQ(e.column(), c.column) << e.what();
    EXPECT_EQ(std::string(e.what()), "error at column " + std::to_string(c.column) + ": " + e.detail());
    EXPECT_THAT(e.detail(), HasSubstr(c.detail)) << c.expression;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, CalculatorError,
    ::testing::Values(
        ErrorCase{"", 1, "empty expression"}, ErrorCase{"   ", 1, "empty expression"},
        ErrorCase{"(1+2", 1, "'(' is never closed"}, ErrorCase{"2*(3+(4)", 3, "'(' is never closed"},
        ErrorCase{"1+2)", 4, "unmatched ')'"}, ErrorCase{"1+", 3, "ends too early"},
        ErrorCase{"2+*3", 3, "unexpected '*' after '+'"}, ErrorCase{"()", 2, "unexpected ')'"},
        ErrorCase{"1 $ 2", 3, "unexpected character '$'"}, ErrorCase{"2 + 2 =", 7, "unexpected '='"},
        ErrorCase{"1,000", 2, "commas only separate function arguments"},
        ErrorCase{"sqrt(2", 5, "'(' is never closed"}, ErrorCase{"max(1,,2)", 7, "unexpected ','"},
        ErrorCase{"sqrt(2,)", 8, "unexpected ')'"}, ErrorCase{"\u00D7 2", 1, "unexpected '\u00D7'"},
        ErrorCase{"1 + \xFF", 5, "not valid UTF-8"}, ErrorCase{"1e400", 1, "too large for a float"}));

INSTANTIATE_TEST_SUITE_P(
    ImplicitMultiplication, CalculatorError,
    ::testing::Values(ErrorCase{"2pi", 2, "implicit multiplication is not supported: write 2*pi"},
                      ErrorCase{"2 3", 3, "missing operator before '3'"},
                      ErrorCase{"2(3)", 2, "implicit multiplication is not supported"},
                      ErrorCase{"(2)(3)", 4, "missing operator before '('"}, ErrorCase{"2e", 2, "write 2*e"},
                      ErrorCase{"sqrt(2 3)", 8, "missing operator"}));

INSTANTIATE_TEST_SUITE_P(
    Names, CalculatorError,
    ::testing::Values(
        ErrorCase{"x + 1", 1, "unknown name 'x'"}, ErrorCase{"2 * foo(1)", 5, "unknown function 'foo'"},
        ErrorCase{"PI", 1, "did you mean 'pi'?"}, ErrorCase{"Sqrt(4)", 1, "did you mean 'sqrt'?"},
        ErrorCase{"sqrt + 1", 1, "sqrt is a function"}, ErrorCase{"pi(2)", 1, "pi is a constant"},
        ErrorCase{"1 + sqrt(1, 2)", 5, "sqrt() takes exactly 1 argument (2 given)"},
        ErrorCase{"min()", 1, "min() takes at least 1 argument (0 given)"},
        ErrorCase{"log(1, 2, 3)", 1, "log() takes 1 or 2 arguments (3 given)"},
        ErrorCase{"comb(5)", 1, "comb() takes exactly 2 arguments (1 given)"}));

INSTANTIATE_TEST_SUITE_P(
    Arithmetic, CalculatorError,
    ::testing::Values(ErrorCase{"1/0", 2, "division by zero"}, ErrorCase{"1 + 7 // 0", 7, "division by zero"},
                      ErrorCase{"3.0 // 0", 5, "division by zero"},
                      ErrorCase{"1.5 / 0.0", 5, "division by zero"}, ErrorCase{"3 % 0", 3, "modulo by zero"},
                      ErrorCase{"0**-1", 2, "zero cannot be raised"},
                      ErrorCase{"(-8)**(1/3)", 5, "non-integer power has no real value"},
                      ErrorCase{"1e308 * 10", 7, "result too large for a float"},
                      ErrorCase{"10.0**400", 5, "result too large for a float"},
                      ErrorCase{"2**1024 * 1.0", 9, "integer too large to convert to a float"}));

INSTANTIATE_TEST_SUITE_P(
    Domains, CalculatorError,
    ::testing::Values(ErrorCase{"sqrt(-1)", 1, "sqrt() of a negative number has no real value, got -1"},
                      ErrorCase{"2 * log(0)", 5, "log() needs a positive argument, got 0"},
                      ErrorCase{"ln(-1)", 1, "needs a positive argument"}, ErrorCase{"log(2, 1)", 1, "base"},
                      ErrorCase{"asin(2)", 1, "asin() needs a value in [-1, 1], got 2"},
                      ErrorCase{"exp(1000)", 1, "result too large for a float"},
                      ErrorCase{"sqrt(10**700)", 1, "result too large for a float"},
                      ErrorCase{"sqrt(-10**400)", 1, "negative number"},
                      ErrorCase{"factorial(-1)", 1, "needs non-negative integers, got -1"},
                      ErrorCase{"factorial(2.5)", 1, "factorial() needs integers, got 2.5"},
                      ErrorCase{"gcd(2.5, 5)", 1, "gcd() needs integers"},
                      ErrorCase{"comb(-1, 2)", 1, "non-negative"}));

// Results past kMaxDigits are refused, the astronomically large ones before any work is done.
INSTANTIATE_TEST_SUITE_P(
    Limits, CalculatorError,
    ::testing::Values(ErrorCase{"9**9**9", 2, "result too large: it would have about 369693100 digits"},
                      ErrorCase{"2**10**100", 2, "result too large"},
                      ErrorCase{"10**10000", 3, "more than 10000 digits"},
                      ErrorCase{"10**9999 * 10", 10, "more than 10000 digits"},
                      ErrorCase{"factorial(100000)", 1, "about 456574 digits"},
                      ErrorCase{"factorial(3249)", 1, "more than 10000 digits"},
                      ErrorCase{"comb(100000, 50000)", 1, "result too large"},
                      ErrorCase{"perm(10**20, 10**6)", 1, "result too large"},
                      ErrorCase{"lcm(10**6000, 10**6000 + 1)", 1, "result too large"}));

TEST(Calculator, KeepsIntegersExactAndDivisionFloat) {
  EXPECT_TRUE(std::holds_alternative<mpz_class>(calc::evaluate("2**200 // 3")));
  EXPECT_TRUE(std::holds_alternative<mpz_class>(calc::evaluate("floor(2.5)")));
  EXPECT_TRUE(std::holds_alternative<double>(calc::evaluate("4 / 2")));
  EXPECT_TRUE(std::holds_alternative<double>(calc::evaluate("2 ** -1")));
  // (2**200 + 1) - 2**200 would be 0 in doubles.
  EXPECT_EQ(calc::calculate("(2**200 + 1) - 2**200"), "1");
}

TEST(Calculator, AcceptsTheLargestIntegersWithinTheLimit) {
  const std::string largest = calc::calculate("10**" + std::to_string(calc::kMaxDigits - 1));
  EXPECT_EQ(largest.size(), calc::kMaxDigits);
  EXPECT_EQ(calc::calculate("factorial(3248)").size(), 9998u);
}

TEST(Calculator, LimitsTheInputLength) {
  // "1+1+...+1" of exactly the limit evaluates; one character more is refused, at the column past the limit.
  std::string at_limit = "1";
  while (at_limit.size() + 2 <= calc::kMaxInputChars) at_limit += "+1";
  if (at_limit.size() < calc::kMaxInputChars) at_limit += " ";
  ASSERT_EQ(at_limit.size(), calc::kMaxInputChars);
  EXPECT_EQ(calc::calculate(at_limit), std::to_string((calc::kMaxInputChars + 1) / 2));
  try {
    calc::evaluate(at_limit + "1");
    ADD_FAILURE() << "an expression over the limit was accepted";
  } catch (const calc::CalcError& e) {
    EXPECT_EQ(e.column(), calc::kMaxInputChars + 1);
    EXPECT_THAT(e.detail(), HasSubstr("too long"));
  }
}

TEST(Calculator, LimitsTheNesting) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "1" + std::string(depth, ')');
  };
  EXPECT_EQ(calc::calculate(nested(calc::kMaxDepth - 1)), "1");
  try {
    calc::evaluate(nested(calc::kMaxDepth + 50));
    ADD_FAILURE() << "nesting over the limit was accepted";
  } catch (const calc::CalcError& e) {
    EXPECT_EQ(e.column(), calc::kMaxDepth + 1);
    EXPECT_THAT(e.detail(), HasSubstr("nested too deeply"));
  }
  EXPECT_THROW(calc::evaluate(std::string(calc::kMaxDepth + 1, '-') + "1"), calc::CalcError);
}

TEST(Calculator, ColumnsCountCharactersNotBytes) {
  // "×" is two bytes; the column of the zero after it still counts it as one character.
  try {
    calc::evaluate("2 \u00D7 3 / 0");
    ADD_FAILURE();
  } catch (const calc::CalcError& e) {
    EXPECT_EQ(e.column(), 7u);
  }
}

TEST(CalculatorFormat, MatchesPythonRepr) {
  EXPECT_EQ(calc::format_double(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(calc::format_double(123456789.125), "123456789.125");
  EXPECT_EQ(calc::format_double(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(calc::format_double(12345678901234567.0), "1.2345678901234568e+16");
  EXPECT_EQ(calc::format_double(-2.5e-5), "-2.5e-05");
  EXPECT_EQ(calc::format_double(0.001), "0.001");
}

TEST(CalculatorTool, DescribesItself) {
  CalculatorTool tool;
  EXPECT_EQ(tool.name(), "calculator");
  EXPECT_FALSE(tool.description().empty());
  const Json schema = tool.parameters();
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["properties"]["expression"]["type"], "string");
  EXPECT_EQ(schema["required"], Json::array({"expression"}));
  EXPECT_EQ(tool.channel(), agent::Channel::Plugin);
}

TEST(CalculatorTool, ReturnsTheValue) {
  CalculatorTool tool;
  const auto result = tool.run(Json{{"expression", "2**100"}}, agent::ToolContext{});
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.text, "1267650600228229401496703205376");
  EXPECT_EQ(result.data["type"], "integer");
  const auto division = tool.run(Json{{"expression", "1/4"}}, agent::ToolContext{});
  EXPECT_TRUE(division.ok);
  EXPECT_EQ(division.text, "0.25");
  EXPECT_EQ(division.data["type"], "float");
}

TEST(CalculatorTool, ReturnsErrorsWithTheColumn) {
  CalculatorTool tool;
  const auto result = tool.run(Json{{"expression", "1 + 2 / 0"}}, agent::ToolContext{});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.text, "error at column 7: division by zero");
  EXPECT_EQ(result.data["column"], 7);
  EXPECT_EQ(result.data["error"], "division by zero");
}

TEST(CalculatorTool, RefusesAMissingOrNonStringExpression) {
  CalculatorTool tool;
  for (const Json& arguments : {Json::object(), Json{{"expression", 42}}, Json{{"expr", "1+1"}}}) {
    const auto result = tool.run(arguments, agent::ToolContext{});
    EXPECT_FALSE(result.ok) << arguments.dump();
    EXPECT_THAT(result.text, HasSubstr("'expression' must be a string")) << arguments.dump();
  }
}

TEST(CalculatorTool, IsTheBuiltinNamedCalculator) {
  const auto tool = make_tool("calculator", ToolsConfig{});
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->name(), "calculator");
  EXPECT_EQ(tool->run(Json{{"expression", "comb(50, 25)"}}, agent::ToolContext{}).text, "126410606437752");
}

}  // namespace
}  // namespace agentrt::tools
