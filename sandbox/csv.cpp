#include "sandbox/csv.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "sandbox/lua_util.h"

namespace agentrt::sandbox {

std::vector<std::vector<std::string>> parse_csv_records(std::string_view text, char delimiter) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false;
  bool field_started = false;  // something (even "") was read for the current field
  std::size_t line = 1;
  std::size_t quote_line = 0;
  auto end_field = [&] {
    record.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
    record.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
      quote_line = line;
    } else if (c == delimiter) {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) {
    throw std::invalid_argument("csv: unterminated quoted field starting on line " +
                                std::to_string(quote_line));
  }
  if (field_started || !record.empty()) end_record();
  return records;
}

Value infer_value(std::string_view field) {
  std::size_t b = 0;
  std::size_t e = field.size();
  while (b < e && (field[b] == ' ' || field[b] == '\t')) ++b;
  while (e > b && (field[e - 1] == ' ' || field[e - 1] == '\t')) --e;
  const std::string_view t = field.substr(b, e - b);
  if (t.empty()) return Value{};
  if (t == "true" || t == "TRUE" || t == "True") return true;
  if (t == "false" || t == "FALSE" || t == "False") return false;
  std::string_view digits = t;
  if (digits.front() == '+') digits.remove_prefix(1);
  if (!digits.empty()) {
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
    if (ec == std::errc() && p == digits.data() + digits.size()) return i;
    double d = 0;
    auto [pd, ecd] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ecd == std::errc() && pd == digits.data() + digits.size() && std::isfinite(d)) return d;
  }
  return std::string(field);
}

DataFrame parse_csv(std::string_view text, const CsvOptions& options) {
  auto records = parse_csv_records(text, options.delimiter);
  DataFrame frame;
  std::size_t width = 0;
  std::size_t first = 0;
  if (options.header) {
    if (records.empty()) return frame;
    for (auto& name : records[0]) {
      std::string n = name.empty() ? "c" + std::to_string(frame.columns.size() + 1) : name;
      frame.columns.push_back({n, {}});
    }
    width = frame.columns.size();
    first = 1;
  } else {
    for (const auto& r : records) width = std::max(width, r.size());
    for (std::size_t c = 0; c < width; ++c) frame.columns.push_back({"c" + std::to_string(c + 1), {}});
  }
  for (auto& col : frame.columns) col.values.reserve(records.size() - first);
  for (std::size_t r = first; r < records.size(); ++r) {
    auto& rec = records[r];
    if (rec.size() > width) {
      throw std::invalid_argument("csv: record " + std::to_string(r + 1) + " has " +
                                  std::to_string(rec.size()) + " fields but the header has " +
                                  std::to_string(width));
    }
    for (std::size_t c = 0; c < width; ++c) {
      if (c >= rec.size()) {
        frame.columns[c].values.emplace_back();
      } else if (options.infer_types) {
        frame.columns[c].values.push_back(infer_value(rec[c]));
      } else if (rec[c].empty()) {
        frame.columns[c].values.emplace_back();
      } else {
        frame.columns[c].values.emplace_back(std::move(rec[c]));
      }
    }
  }
  if (options.infer_types) {
    // A column that mixes numbers and text is text: keep what was written, not a half-converted column.
    for (std::size_t c = 0; c < frame.columns.size(); ++c) {
      bool has_text = false;
      bool has_other = false;
      for (const auto& v : frame.columns[c].values) {
        if (std::holds_alternative<std::string>(v))
          has_text = true;
        else if (!is_missing(v))
          has_other = true;
      }
      if (has_text && has_other) {
        for (std::size_t r = 0; r < frame.columns[c].values.size(); ++r) {
          auto& v = frame.columns[c].values[r];
          if (!is_missing(v) && !std::holds_alternative<std::string>(v)) v = records[first + r][c];
        }
      }
    }
  }
  return frame;
}

namespace {
std::string quote_field(const std::string& s, char delimiter) {
  if (s.find_first_of(std::string("\"\r\n") + delimiter) == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string to_csv(const DataFrame& frame, char delimiter) {
  std::string out;
  for (std::size_t c = 0; c < frame.columns.size(); ++c) {
    if (c) out += delimiter;
    out += quote_field(frame.columns[c].name, delimiter);
  }
  out += '\n';
  for (std::size_t r = 0; r < frame.rows(); ++r) {
    for (std::size_t c = 0; c < frame.columns.size(); ++c) {
      if (c) out += delimiter;
      out += quote_field(value_text(frame.columns[c].values[r]), delimiter);
    }
    out += '\n';
  }
  return out;
}

}  // namespace agentrt::sandbox
