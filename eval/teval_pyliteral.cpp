#include "eval/teval_pyliteral.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "eval/teval_similarity.h"

namespace agentrt::eval::teval {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Recursive-descent reader of one Python literal. Every method returns false on text ast.literal_eval
// rejects.
class LiteralReader {
 public:
  explicit LiteralReader(std::string_view text) : s_(text) {}

  std::optional<Json> read_all() {
    Json value;
    if (!read_value(value, 0)) return std::nullopt;
    if (eat(',')) {
      // "a, b" and "a," at the top level are tuples, read as arrays.
      Json tuple = Json::array();
      tuple.push_back(std::move(value));
      skip_space();
      while (pos_ < s_.size()) {
        Json item;
        if (!read_value(item, 1)) return std::nullopt;
        tuple.push_back(std::move(item));
        if (!eat(',')) break;
        skip_space();
      }
      value = std::move(tuple);
    }
    skip_space();
    if (pos_ != s_.size()) return std::nullopt;
    return value;
  }

 private:
  // Deeply nested input must not exhaust the stack.
  static constexpr int kMaxDepth = 200;

  void skip_space() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {
        pos_ += 2;  // explicit line joining
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool read_value(Json& out, int depth) {
    if (depth > kMaxDepth) return false;
    skip_space();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      const bool ok = c == '{' ? read_brace(out, depth) : read_sequence(out, ']', depth);
      hashable_ = false;
      return ok;
    }
    if (c == '(') return read_paren(out, depth);
    hashable_ = true;  // every other literal is a scalar
    if (c == '-' || c == '+') {
      ++pos_;
      // literal_eval takes one sign directly on a number: "-1", "- 1.5", but not "+-1" or "-True".
      skip_space();
      if (pos_ >= s_.size() || !((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.')) return false;
      Json inner;
      if (!read_number(inner)) return false;
      if (c == '+') {
        out = inner;
      } else if (inner.is_number_float()) {
        out = -inner.get<double>();
      } else if (inner.is_number_unsigned()) {
        const auto u = inner.get<uint64_t>();
        if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
          out = static_cast<int64_t>(0 - u);
        } else {
          out = -static_cast<double>(u);
        }
      } else {
        const auto i = inner.get<int64_t>();
        out = i == std::numeric_limits<int64_t>::min() ? Json(-static_cast<double>(i)) : Json(-i);
      }
      return true;
    }
    if ((c >= '0' && c <= '9') || c == '.') return read_number(out);
    if (c == '"' || c == '\'') return read_strings(out);
    if (is_ident_char(c)) {
      size_t end = pos_;
      while (end < s_.size() && is_ident_char(s_[end])) ++end;
      const std::string_view word = s_.substr(pos_, end - pos_);
      if (word == "True" || word == "False" || word == "None") {
        pos_ = end;
        out = word == "None" ? Json(nullptr) : Json(word == "True");
        return true;
      }
      // A string prefix (r, u, b, br, rb in any case) directly followed by a quote.
      if (end < s_.size() && (s_[end] == '"' || s_[end] == '\'') && word.size() <= 2)
        return read_strings(out);
      return false;
    }
    return false;
  }

  bool read_sequence(Json& out, char close, int depth) {
    ++pos_;  // the opening bracket
    out = Json::array();
    if (eat(close)) return true;
    while (true) {
      Json item;
      if (!read_value(item, depth + 1)) return false;
      out.push_back(std::move(item));
      if (eat(close)) return true;
      if (!eat(',')) return false;
      if (eat(close)) return true;  // trailing comma
    }
  }

  // "(x)" is x itself; "(x,)" and "(x, y)" are tuples, read as arrays (hashable when all their items are).
  bool read_paren(Json& out, int depth) {
    ++pos_;
    if (eat(')')) {
      out = Json::array();
      hashable_ = true;
      return true;
    }
    Json first;
    if (!read_value(first, depth + 1)) return false;
    if (eat(')')) {
      out = std::move(first);
      return true;
    }
    if (!eat(',')) return false;
    bool all_hashable = hashable_;
    out = Json::array();
    out.push_back(std::move(first));
    while (!eat(')')) {
      Json item;
      if (!read_value(item, depth + 1)) return false;
      all_hashable = all_hashable && hashable_;
      out.push_back(std::move(item));
      if (eat(')')) break;
      if (!eat(',')) return false;
    }
    hashable_ = all_hashable;
    return true;
  }

  // A dict ({k: v, ...}) or a set ({a, b}); a set is read as an array.
  bool read_brace(Json& out, int depth) {
    ++pos_;
    if (eat('}')) {
      out = Json::object();
      return true;
    }
    Json first;
    if (!read_value(first, depth + 1) || !hashable_)
      return false;  // set items and dict keys must be hashable
    if (!eat(':')) {
      out = Json::array();
      out.push_back(std::move(first));
      while (!eat('}')) {
        if (!eat(',')) return false;
        if (eat('}')) return true;
        Json item;
        if (!read_value(item, depth + 1) || !hashable_) return false;
        out.push_back(std::move(item));
      }
      return true;
    }
    out = Json::object();
    Json key = std::move(first);
    while (true) {
      Json value;
      if (!read_value(value, depth + 1)) return false;
      if (key.is_array() || key.is_object()) return false;  // unhashable
      out[key.is_string() ? key.get<std::string>() : py_str(key)] = std::move(value);
      if (eat('}')) return true;
      if (!eat(',')) return false;
      if (eat('}')) return true;
      if (!read_value(key, depth + 1) || !hashable_ || !eat(':')) return false;
    }
  }

  bool read_number(Json& out) {
    std::string digits;
    size_t p = pos_;
    const auto take_digits = [&](auto is_digit) {
      bool any = false;
      while (p < s_.size() &&
             (is_digit(s_[p]) || (s_[p] == '_' && any && p + 1 < s_.size() && is_digit(s_[p + 1])))) {
        if (s_[p] != '_') digits.push_back(s_[p]);
        any = true;
        ++p;
      }
      return any;
    };
    const auto dec = [](char c) { return c >= '0' && c <= '9'; };
    if (s_[p] == '0' && p + 1 < s_.size() && std::string("xXoObB").find(s_[p + 1]) != std::string::npos) {
      const char kind = static_cast<char>(s_[p + 1] | 0x20);
      const int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
      p += 2;
      if (p < s_.size() && s_[p] == '_') ++p;
      const bool any = take_digits([base](char c) { return hex_value(c) >= 0 && hex_value(c) < base; });
      if (!any || (p < s_.size() && is_ident_char(s_[p]))) return false;
      uint64_t value = 0;
      const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
      if (r.ec != std::errc()) return false;
      pos_ = p;
      out = value;
      return true;
    }
    bool is_float = false;
    take_digits(dec);
    if (p < s_.size() && s_[p] == '.') {
      is_float = true;
      digits.push_back('.');
      ++p;
      take_digits(dec);
    }
    if (digits.empty() || digits == ".") return false;
    if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
      size_t q = p + 1;
      std::string exponent = "e";
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) exponent.push_back(s_[q++]);
      const size_t before = digits.size();
      p = q;
      if (!take_digits(dec)) return false;
      exponent += digits.substr(before);
      digits.resize(before);
      digits += exponent;
      is_float = true;
    }
    if (p < s_.size() && (is_ident_char(s_[p]) || s_[p] == '.')) return false;  // 1j, 1.2.3, 12abc
    pos_ = p;
    if (!is_float) {
      // Python forbids leading zeros in non-zero decimal ints ("012").
      if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
        return false;
      uint64_t value = 0;
      const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (r.ec == std::errc()) {
        out = value;
        return true;
      }
    }
    out = std::strtod(digits.c_str(), nullptr);
    return true;
  }

  // One or more adjacent string literals, concatenated as Python does.
  bool read_strings(Json& out) {
    std::string text;
    bool any = false;
    bool bytes = false;
    while (true) {
      skip_space();
      size_t p = pos_;
      std::string prefix;
      while (p < s_.size() && is_ident_char(s_[p])) prefix.push_back(static_cast<char>(s_[p++] | 0x20));
      // Python's string prefixes; anything else before a quote (rr, ur, f) is not a literal.
      if (prefix != "" && prefix != "r" && prefix != "u" && prefix != "b" && prefix != "br" &&
          prefix != "rb") {
        return false;
      }
      const bool raw = prefix.find('r') != std::string::npos;
      if (p >= s_.size() || (s_[p] != '"' && s_[p] != '\'')) {
        if (!prefix.empty()) return false;
        break;
      }
      // Python cannot join bytes and str literals.
      const bool is_bytes = prefix.find('b') != std::string::npos;
      if (any && is_bytes != bytes) return false;
      bytes = is_bytes;
      pos_ = p;
      if (!read_one_string(text, raw)) return false;
      any = true;
    }
    if (!any) return false;
    out = std::move(text);
    return true;
  }

  bool read_one_string(std::string& out, bool raw) {
    const char quote = s_[pos_];
    const bool triple = pos_ + 2 < s_.size() && s_[pos_ + 1] == quote && s_[pos_ + 2] == quote;
    pos_ += triple ? 3 : 1;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == quote) {
        if (!triple) {
          ++pos_;
          return true;
        }
        if (pos_ + 2 < s_.size() && s_[pos_ + 1] == quote && s_[pos_ + 2] == quote) {
          pos_ += 3;
          return true;
        }
      }
      if (c == '\n' && !triple) return false;
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= s_.size()) return false;
      const char e = s_[pos_ + 1];
      if (raw) {  // a raw string keeps the backslash; it only stops the quote from ending the string
        out.push_back('\\');
        out.push_back(e);
        pos_ += 2;
        continue;
      }
      pos_ += 2;
      switch (e) {
        case '\n':
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '\'':
          out.push_back('\'');
          break;
        case '"':
          out.push_back('"');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > s_.size()) return false;
          uint32_t cp = 0;
          for (size_t i = 0; i < n; ++i) {
            const int h = hex_value(s_[pos_ + i]);
            if (h < 0) return false;
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          if (cp > 0x10FFFF) return false;
          pos_ += n;
          append_utf8(out, cp);
          break;
        }
        case 'N':
          return false;  // named characters would need the Unicode name table
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++i) {
              cp = cp * 8 + static_cast<uint32_t>(s_[pos_++] - '0');
            }
            append_utf8(out, cp);
          } else {
            out.push_back('\\');  // unknown escapes stay as written
            out.push_back(e);
          }
      }
    }
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool hashable_ = true;  // whether the value read last could be a set item or a dict key
};

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t epos = sci.find('e');
  std::string digits = sci.substr(0, epos);
  const int exp10 = std::stoi(sci.substr(epos + 1));
  if (digits.size() > 1) digits.erase(1, 1);  // drop the decimal point
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int decpt = exp10 + 1;  // value = 0.<digits> * 10^decpt
  const int n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {  // Python's repr switches to exponent notation here
    std::string out = sign + digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    return out + e;
  }
  if (decpt <= 0) return sign + "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
  if (decpt >= n) return sign + digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
  return sign + digits.substr(0, static_cast<size_t>(decpt)) + "." +
         digits.substr(static_cast<size_t>(decpt));
}

// Characters Python's repr() escapes because str.isprintable() is false for them (categories Cc, Cf, Zs but
// the space, Zl, Zp, Co); unassigned code points are left as they are.
bool py_unprintable(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) return true;
  if ((cp >= 0x600 && cp <= 0x605) || cp == 0x61C || cp == 0x6DD || cp == 0x70F || cp == 0x1680 ||
      cp == 0x180E) {
    return true;
  }
  if ((cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x2064) ||
      (cp >= 0x2066 && cp <= 0x206F)) {
    return true;
  }
  if (cp == 0x3000 || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB)) return true;
  return (cp >= 0xE000 && cp <= 0xF8FF) || cp >= 0xF0000;
}

std::string py_str_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = next_code_point(s, pos);
    char buf[16];
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == static_cast<char32_t>(quote)) {
      out += '\\';
      out += quote;
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (py_unprintable(cp)) {
      const auto code = static_cast<unsigned>(cp);
      if (cp < 0x100) {
        std::snprintf(buf, sizeof buf, "\\x%02x", code);
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04x", code);
      } else {
        std::snprintf(buf, sizeof buf, "\\U%08x", code);
      }
      out += buf;
    } else {
      out.append(s, start, pos - start);
    }
  }
  out.push_back(quote);
  return out;
}

void append_repr(const Json& v, std::string& out, bool top) {
  if (v.is_string()) {
    out += top ? v.get<std::string>() : py_str_repr(v.get<std::string>());
  } else if (v.is_null()) {
    out += "None";
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "True" : "False";
  } else if (v.is_number_float()) {
    out += py_float_repr(v.get<double>());
  } else if (v.is_number()) {
    out += v.dump();
  } else if (v.is_array()) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : v) {
      if (!first) out += ", ";
      first = false;
      append_repr(item, out, false);
    }
    out.push_back(']');
  } else if (v.is_object()) {
    out.push_back('{');
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += py_str_repr(it.key());
      out += ": ";
      append_repr(it.value(), out, false);
    }
    out.push_back('}');
  }
}

std::optional<Json> parse_json(std::string_view text) {
  Json value = Json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Json> parse_python_literal(std::string_view text) {
  return LiteralReader(text).read_all();
}

std::optional<Json> format_load(std::string_view text, char start, char end) {
  std::string raw(text);
  if (const size_t fence = raw.find("```json"); fence != std::string::npos) {
    raw = raw.substr(fence + 7);
    const size_t first = raw.find_first_not_of('`');
    const size_t last = raw.find_last_not_of('`');
    raw = first == std::string::npos ? std::string() : raw.substr(first, last - first + 1);
  }
  // Python slicing as T-Eval writes it: a missing start keeps only the last character (find gives -1), a
  // missing end keeps nothing.
  if (start != '\0') {
    const size_t at = raw.find(start);
    raw = at == std::string::npos ? (raw.empty() ? raw : raw.substr(raw.size() - 1)) : raw.substr(at);
  }
  if (end != '\0') {
    const size_t at = raw.rfind(end);
    raw = at == std::string::npos ? std::string() : raw.substr(0, at + 1);
  }
  if (auto v = parse_python_literal(raw)) return v;
  if (auto v = parse_json(raw)) return v;
  std::string swapped = raw;
  for (auto& c : swapped) {
    if (c == '\'') c = '"';
  }
  return parse_json(swapped);
}

std::string py_str(const Json& value) {
  std::string out;
  append_repr(value, out, true);
  return out;
}

bool py_equal(const Json& a, const Json& b) {
  const bool a_num = a.is_number() || a.is_boolean();
  const bool b_num = b.is_number() || b.is_boolean();
  if (a_num && b_num) {
    const auto as_double = [](const Json& v) {
      return v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>();
    };
    if (a.is_number_integer() && b.is_number_integer()) {
      // Sign and magnitude, so that unsigned and signed storage of the same integer compare equal.
      const auto key = [](const Json& v) -> std::pair<bool, uint64_t> {
        if (v.is_number_unsigned()) return {false, v.get<uint64_t>()};
        const auto i = v.get<int64_t>();
        return i < 0 ? std::pair{true, uint64_t{0} - static_cast<uint64_t>(i)}
                     : std::pair{false, static_cast<uint64_t>(i)};
      };
      return key(a) == key(b);
    }
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!py_equal(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      if (other == b.end() || !py_equal(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::optional<long long> py_int(const Json& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<long long>::max())) return std::nullopt;
    return static_cast<long long>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return std::nullopt;
    return static_cast<long long>(std::trunc(d));
  }
  if (!value.is_string()) return std::nullopt;
  std::string s = value.get<std::string>();
  const size_t first = s.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return std::nullopt;
  s = s.substr(first, s.find_last_not_of(" \t\n\r\f\v") - first + 1);
  std::string digits;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    if (s[0] == '-') digits.push_back('-');
    i = 1;
  }
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits.push_back(s[i]);
      prev_digit = true;
    } else if (s[i] == '_' && prev_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      prev_digit = false;
    } else {
      return std::nullopt;
    }
  }
  long long out = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
  return out;
}

}  // namespace agentrt::eval::teval
