// The Python value semantics T-Eval's evaluators rely on, so our scores match theirs: its `format_load` (a
// response is read with ast.literal_eval, then json.loads, then json.loads after swapping ' for "), Python's
// str() of a parsed value (arguments are compared as the text of their dict repr), and Python's == between
// values (1 == 1.0 == True).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/schema.h"

namespace agentrt::eval::teval {

// Parses one Python literal (what ast.literal_eval accepts, minus complex numbers and bytes): dicts, lists,
// tuples and sets (both as arrays), strings in every quoting with escapes and prefixes r/u/b, adjacent string
// concatenation, ints (also 0x/0o/0b and underscores), floats, True/False/None, unary signs. The whole text
// must be one literal (surrounding whitespace aside). Dict keys that are not strings become their str().
std::optional<Json> parse_python_literal(std::string_view text);

// T-Eval's format_load: drops a leading "```json" fence and the backticks around it, keeps the text from the
// first `start` to the last `end` (when given; '\0' = not given), then tries a Python literal, JSON, and JSON
// with every ' replaced by ". nullopt when all three fail.
std::optional<Json> format_load(std::string_view text, char start = '\0', char end = '\0');

// Python's str(value) for a parsed value: strings as themselves at the top level and repr-quoted inside
// containers, dicts as {'k': v}, lists as [a, b], True/False/None, floats as Python's repr.
std::string py_str(const Json& value);

// Python's == between two parsed values: numbers and booleans compare by value across types, dicts ignore key
// order, lists compare element by element.
bool py_equal(const Json& a, const Json& b);

// Python's int(value) for a parsed value: ints, booleans, finite floats (truncated) and strings holding a
// decimal integer; nullopt otherwise.
std::optional<long long> py_int(const Json& value);

}  // namespace agentrt::eval::teval
