// The Python value semantics the T-Eval scorer relies on: literal parsing (ast.literal_eval), format_load's
// fallbacks, str() of values, == and int().
#include <gtest/gtest.h>

#include "eval/teval_pyliteral.h"

namespace agentrt::eval::teval {
namespace {

Json lit(std::string_view text) {
  auto v = parse_python_literal(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(Json("<unparsed>"));
}

TEST(TevalPyLiteral, ReadsPythonDictsWithSingleQuotesAndConstants) {
  const Json v =
      lit("{'name': 'AirbnbSearch.search_property_by_place', 'ok': True, 'none': None, 'n': -3, "
          "'f': 2.5e1, 'list': [1, (2, 3), ()], 'nested': {'k': \"it's\"},}");
  EXPECT_EQ(v["name"], "AirbnbSearch.search_property_by_place");
  EXPECT_EQ(v["ok"], true);
  EXPECT_TRUE(v["none"].is_null());
  EXPECT_EQ(v["n"], -3);
  EXPECT_DOUBLE_EQ(v["f"].get<double>(), 25.0);
  EXPECT_EQ(v["list"], Json::parse("[1, [2, 3], []]"));
  EXPECT_EQ(v["nested"]["k"], "it's");
  // Key order is kept as written.
  EXPECT_EQ(v.begin().key(), "name");
}

TEST(TevalPyLiteral, ReadsStringEscapesPrefixesAndConcatenation) {
  EXPECT_EQ(lit(R"('a\nb\t\'q\' \x41\u00e9\101')"),
            "a\nb\t'q' A\xC3\xA9"
            "A");
  EXPECT_EQ(lit(R"(r'C:\path\n')"), "C:\\path\\n");
  EXPECT_EQ(lit("'ab' \"cd\""), "abcd");
  EXPECT_EQ(lit("'''multi\nline'''"), "multi\nline");
  EXPECT_EQ(lit(R"('unknown \q escape')"), "unknown \\q escape");
}

TEST(TevalPyLiteral, ReadsNumbersAsPythonDoes) {
  EXPECT_EQ(lit("0x1F"), 31);
  EXPECT_EQ(lit("0b101"), 5);
  EXPECT_EQ(lit("1_000"), 1000);
  EXPECT_EQ(lit("(7)"), 7);  // parentheses, not a tuple
  EXPECT_EQ(lit("(7,)"), Json::parse("[7]"));
  EXPECT_EQ(lit("{1, 2}"), Json::parse("[1, 2]"));  // a set
  EXPECT_DOUBLE_EQ(lit(".5").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(lit("-1e-3").get<double>(), -0.001);
  EXPECT_EQ(lit("{1: 'a'}"), Json::parse(R"({"1": "a"})"));  // non-string keys become their str()
}

TEST(TevalPyLiteral, RejectsWhatLiteralEvalRejects) {
  for (const char* bad : {"", "{'a': }", "abc", "1 2", "[1, 2", "{[1]: 2}", "true", "'unterminated", "012",
                          "1j", "'a\nb'", "f(1)"}) {
    EXPECT_FALSE(parse_python_literal(bad).has_value()) << bad;
  }
}

TEST(TevalPyLiteral, FollowsLiteralEvalOnTheFineRules) {
  // Found by comparing with Python's ast.literal_eval on mutated T-Eval-like replies.
  EXPECT_EQ(lit("{'a': 1},"), Json::parse(R"([{"a": 1}])"));  // a trailing comma makes a tuple
  EXPECT_EQ(lit("1, 'x'"), Json::parse(R"([1, "x"])"));
  EXPECT_EQ(lit("{(1, 2), 3}"), Json::parse("[[1, 2], 3]"));  // tuples are hashable set items
  for (const char* bad : {"+-1", "--0.0", "-True", "rr'x'", "ur'x'", "f'x'", "b'x' 'y'", "{[1], 2}",
                          "{(1, [2])}", "'\\U00110000'"}) {
    EXPECT_FALSE(parse_python_literal(bad).has_value()) << bad;
  }
  EXPECT_EQ(lit("- 1.5"), -1.5);
  EXPECT_EQ(lit("Rb'a' b'b'"), "ab");
  // repr escapes what str.isprintable() rejects.
  EXPECT_EQ(py_str(Json::array({"a\u0085b\u00adc\u3000d\u2028"})), R"(['a\x85b\xadc\u3000d\u2028'])");
}

TEST(TevalPyLiteral, DeepNestingFailsInsteadOfOverflowingTheStack) {
  const std::string deep(100000, '[');
  EXPECT_FALSE(parse_python_literal(deep).has_value());
}

TEST(TevalFormatLoad, FallsBackFromPythonToJsonToSwappedQuotes) {
  EXPECT_EQ(format_load("{'a': 1}"), Json::parse(R"({"a": 1})"));
  EXPECT_EQ(format_load(R"({"a": true, "b": null})"), Json::parse(R"({"a": true, "b": null})"));  // JSON only
  EXPECT_EQ(format_load(R"({'a': true})"), Json::parse(R"({"a": true})"));  // needs ' -> "
  EXPECT_FALSE(format_load("not a value").has_value());
}

TEST(TevalFormatLoad, SlicesFencesAndBrackets) {
  EXPECT_EQ(format_load("Here is the plan:\n```json\n[{\"id\": 0}]\n```", '[', ']'),
            Json::parse(R"([{"id": 0}])"));
  EXPECT_EQ(format_load("The call is {'name': 'x'} as asked.", '{', '}'), Json::parse(R"({"name": "x"})"));
  // As in Python slicing: no opening bracket keeps the last character, no closing one keeps nothing.
  EXPECT_FALSE(format_load("no brackets", '[', ']').has_value());
  EXPECT_EQ(format_load("value 7", '7', '\0'), 7);
}

TEST(TevalPyStr, WritesPythonReprOfValues) {
  EXPECT_EQ(py_str(Json::parse(R"({"place": "Berlin", "n": 3, "ok": false, "x": null})")),
            "{'place': 'Berlin', 'n': 3, 'ok': False, 'x': None}");
  EXPECT_EQ(py_str(Json::parse(R"(["it's", "say \"hi\"", "a\nb"])")), R"(["it's", 'say "hi"', 'a\nb'])");
  EXPECT_EQ(py_str(Json("top level")), "top level");
  EXPECT_EQ(py_str(Json(1.0)), "1.0");
  EXPECT_EQ(py_str(Json(0.1)), "0.1");
  EXPECT_EQ(py_str(Json(1e-5)), "1e-05");
  EXPECT_EQ(py_str(Json(1e16)), "1e+16");
  EXPECT_EQ(py_str(Json(123456789012.5)), "123456789012.5");
  EXPECT_EQ(py_str(Json(-0.0001)), "-0.0001");
  EXPECT_EQ(py_str(Json::object()), "{}");
}

TEST(TevalPyEqual, ComparesAsPythonDoes) {
  EXPECT_TRUE(py_equal(Json(1), Json(1.0)));
  EXPECT_TRUE(py_equal(Json(true), Json(1)));
  EXPECT_TRUE(py_equal(Json(-2), Json(-2.0)));
  EXPECT_FALSE(py_equal(Json("1"), Json(1)));
  EXPECT_TRUE(
      py_equal(Json::parse(R"({"a": 1, "b": [1, 2]})"), Json::parse(R"({"b": [1.0, 2], "a": true})")));
  EXPECT_FALSE(py_equal(Json::parse(R"({"a": 1})"), Json::parse(R"({"a": 1, "b": 2})")));
  EXPECT_TRUE(py_equal(Json::parse("5"), lit("5")));  // unsigned vs signed storage
}

TEST(TevalPyInt, ConvertsAsPythonIntDoes) {
  EXPECT_EQ(py_int(Json(3)), 3);
  EXPECT_EQ(py_int(Json(3.9)), 3);
  EXPECT_EQ(py_int(Json(true)), 1);
  EXPECT_EQ(py_int(Json(" -12 ")), -12);
  EXPECT_FALSE(py_int(Json("1.0")).has_value());
  EXPECT_FALSE(py_int(Json("one")).has_value());
  EXPECT_FALSE(py_int(Json(nullptr)).has_value());
  EXPECT_FALSE(py_int(Json::array()).has_value());
}

}  // namespace
}  // namespace agentrt::eval::teval
