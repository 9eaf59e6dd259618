// A small column-oriented data frame: named columns of values (missing, integer, float, string, boolean) with
// the operations the df library offers. Pure C++: the Lua binding (lib_df.cpp) and the CSV reader build on
// it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace agentrt::sandbox {

using Value = std::variant<std::monostate, std::int64_t, double, std::string, bool>;

inline bool is_missing(const Value& v) {
  return std::holds_alternative<std::monostate>(v);
}
std::optional<double> as_number(const Value& v);
// The value as a person reads it ("" for missing).
std::string value_text(const Value& v);
// Orders values for sorting and grouping: numbers (by value) < booleans < strings < missing.
int compare_values(const Value& a, const Value& b);

struct Column {
  std::string name;
  std::vector<Value> values;
};

// One aggregation of a grouped frame: `op` over column `column`, written to column `output`.
struct Aggregation {
  std::string column;
  std::string op;  // count, n, sum, mean, median, min, max, std, var, first, last
  std::string output;
};

class DataFrame {
 public:
  std::vector<Column> columns;

  std::size_t rows() const { return columns.empty() ? 0 : columns.front().values.size(); }
  // Index of the column `name`; throws std::invalid_argument listing the columns when there is none.
  std::size_t index_of(const std::string& name) const;
  const Column& column(const std::string& name) const { return columns[index_of(name)]; }
  // The numbers of a column, skipping missing values; throws when a present value is not a number.
  std::vector<double> numbers(const std::string& name) const;
  bool is_numeric(std::size_t column) const;

  // Adds a column, or replaces the one of that name; its length must match.
  void set_column(const std::string& name, std::vector<Value> values);

  DataFrame select(const std::vector<std::string>& names) const;
  DataFrame take(const std::vector<std::size_t>& row_indices) const;
  DataFrame head(std::size_t n) const;
  DataFrame tail(std::size_t n) const;
  // Stable sort by one or more columns; missing values last.
  DataFrame sort_by(const std::vector<std::string>& keys, const std::vector<bool>& descending) const;
  // One row per distinct key combination, in order of first appearance.
  DataFrame group_aggregate(const std::vector<std::string>& keys, const std::vector<Aggregation>& aggs) const;
  // count, mean, std, min, 25%, 50%, 75%, max of each numeric column (one row per statistic).
  DataFrame describe() const;
  // how: "inner" or "left"; columns of `right` other than `on` keep their names, "_right" added on a clash.
  DataFrame join(const DataFrame& right, const std::string& on, const std::string& how) const;

  // An aligned text table of the first `max_rows` rows, with the frame's size.
  std::string to_text(std::size_t max_rows = 20) const;
  // Bytes the frame holds, roughly: what it is charged against the session's memory cap.
  std::size_t approx_bytes() const;
};

// Applies one aggregation to a list of values.
Value aggregate(const std::vector<Value>& values, const std::string& op);

}  // namespace agentrt::sandbox
