#include "sandbox/dataframe.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

#include "sandbox/lua_util.h"
#include "sandbox/stats.h"

namespace agentrt::sandbox {
namespace {
constexpr std::size_t kMaxJoinRows = 5'000'000;
}  // namespace

std::optional<double> as_number(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

std::string value_text(const Value& v) {
  switch (v.index()) {
    case 0:
      return "";
    case 1:
      return std::to_string(std::get<std::int64_t>(v));
    case 2:
      return format_number(std::get<double>(v));
    case 3:
      return std::get<std::string>(v);
    default:
      return std::get<bool>(v) ? "true" : "false";
  }
}

int compare_values(const Value& a, const Value& b) {
  auto rank = [](const Value& v) {
    if (as_number(v)) return 0;
    if (std::holds_alternative<bool>(v)) return 1;
    if (std::holds_alternative<std::string>(v)) return 2;
    return 3;
  };
  const int ra = rank(a);
  const int rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 0) {
    const double x = *as_number(a);
    const double y = *as_number(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ra == 1) return static_cast<int>(std::get<bool>(a)) - static_cast<int>(std::get<bool>(b));
  if (ra == 2) {
    const int c = std::get<std::string>(a).compare(std::get<std::string>(b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 0;
}

std::size_t DataFrame::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  std::string known;
  for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c.name;
  throw std::invalid_argument("no column '" + name + "' (columns: " + known + ")");
}

std::vector<double> DataFrame::numbers(const std::string& name) const {
  const Column& c = column(name);
  std::vector<double> out;
  out.reserve(c.values.size());
  for (std::size_t i = 0; i < c.values.size(); ++i) {
    if (is_missing(c.values[i])) continue;
    const auto n = as_number(c.values[i]);
    if (!n) {
      throw std::invalid_argument("column '" + name + "' is not numeric (row " + std::to_string(i + 1) +
                                  " is '" + value_text(c.values[i]) + "')");
    }
    out.push_back(*n);
  }
  return out;
}

bool DataFrame::is_numeric(std::size_t column) const {
  bool any = false;
  for (const auto& v : columns[column].values) {
    if (is_missing(v)) continue;
    if (!as_number(v)) return false;
    any = true;
  }
  return any;
}

void DataFrame::set_column(const std::string& name, std::vector<Value> values) {
  if (!columns.empty() && values.size() != rows()) {
    throw std::invalid_argument("column '" + name + "' has " + std::to_string(values.size()) +
                                " values but the frame has " + std::to_string(rows()) + " rows");
  }
  for (auto& c : columns) {
    if (c.name == name) {
      c.values = std::move(values);
      return;
    }
  }
  columns.push_back({name, std::move(values)});
}

DataFrame DataFrame::select(const std::vector<std::string>& names) const {
  DataFrame out;
  for (const auto& n : names) out.columns.push_back(column(n));
  return out;
}

DataFrame DataFrame::take(const std::vector<std::size_t>& row_indices) const {
  DataFrame out;
  for (const auto& c : columns) {
    Column nc{c.name, {}};
    nc.values.reserve(row_indices.size());
    for (std::size_t r : row_indices) nc.values.push_back(c.values.at(r));
    out.columns.push_back(std::move(nc));
  }
  return out;
}

DataFrame DataFrame::head(std::size_t n) const {
  std::vector<std::size_t> idx(std::min(n, rows()));
  std::iota(idx.begin(), idx.end(), 0);
  return take(idx);
}

DataFrame DataFrame::tail(std::size_t n) const {
  const std::size_t count = std::min(n, rows());
  std::vector<std::size_t> idx(count);
  std::iota(idx.begin(), idx.end(), rows() - count);
  return take(idx);
}

DataFrame DataFrame::sort_by(const std::vector<std::string>& keys,
                             const std::vector<bool>& descending) const {
  std::vector<std::size_t> cols;
  for (const auto& k : keys) cols.push_back(index_of(k));
  std::vector<std::size_t> order(rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const Value& va = columns[cols[k]].values[a];
      const Value& vb = columns[cols[k]].values[b];
      if (is_missing(va) != is_missing(vb)) return is_missing(vb);  // missing last either way
      int c = compare_values(va, vb);
      if (k < descending.size() && descending[k]) c = -c;
      if (c != 0) return c < 0;
    }
    return false;
  });
  return take(order);
}

Value aggregate(const std::vector<Value>& values, const std::string& op) {
  if (op == "n") return static_cast<std::int64_t>(values.size());
  std::vector<const Value*> present;
  for (const auto& v : values) {
    if (!is_missing(v)) present.push_back(&v);
  }
  if (op == "count") return static_cast<std::int64_t>(present.size());
  if (op == "first") return present.empty() ? Value{} : *present.front();
  if (op == "last") return present.empty() ? Value{} : *present.back();
  if (op == "min" || op == "max") {
    if (present.empty()) return Value{};
    const Value* best = present.front();
    for (const Value* v : present) {
      const int c = compare_values(*v, *best);
      if (op == "min" ? c < 0 : c > 0) best = v;
    }
    return *best;
  }
  std::vector<double> nums;
  bool all_integers = true;
  for (const Value* v : present) {
    const auto n = as_number(*v);
    if (!n)
      throw std::invalid_argument("aggregation '" + op + "' needs numbers, got '" + value_text(*v) + "'");
    all_integers = all_integers && std::holds_alternative<std::int64_t>(*v);
    nums.push_back(*n);
  }
  if (op == "sum") {
    if (all_integers) {
      std::int64_t s = 0;
      for (const Value* v : present) s += std::get<std::int64_t>(*v);
      return s;
    }
    return stats::sum(nums);
  }
  if (nums.empty()) return Value{};
  if (op == "mean") return stats::mean(nums);
  if (op == "median") return stats::median(nums);
  if (op == "std" || op == "var") {
    if (nums.size() < 2) return Value{};
    return op == "std" ? stats::stddev(nums) : stats::variance(nums);
  }
  throw std::invalid_argument("unknown aggregation '" + op +
                              "' (use count, n, sum, mean, median, min, max, std, var, first, last)");
}

DataFrame DataFrame::group_aggregate(const std::vector<std::string>& keys,
                                     const std::vector<Aggregation>& aggs) const {
  std::vector<std::size_t> key_cols;
  for (const auto& k : keys) key_cols.push_back(index_of(k));
  std::vector<std::size_t> agg_cols;
  for (const auto& a : aggs) agg_cols.push_back(a.op == "n" ? 0 : index_of(a.column));
  auto less = [](const std::vector<Value>& a, const std::vector<Value>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      const int c = compare_values(a[i], b[i]);
      if (c != 0) return c < 0;
    }
    return false;
  };
  std::map<std::vector<Value>, std::size_t, decltype(less)> group_of(less);
  std::vector<std::vector<Value>> group_keys;
  std::vector<std::vector<std::size_t>> members;
  for (std::size_t r = 0; r < rows(); ++r) {
    std::vector<Value> key;
    for (std::size_t c : key_cols) key.push_back(columns[c].values[r]);
    auto [it, inserted] = group_of.emplace(key, group_keys.size());
    if (inserted) {
      group_keys.push_back(std::move(key));
      members.emplace_back();
    }
    members[it->second].push_back(r);
  }
  DataFrame out;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    Column c{keys[k], {}};
    for (const auto& g : group_keys) c.values.push_back(g[k]);
    out.columns.push_back(std::move(c));
  }
  for (std::size_t a = 0; a < aggs.size(); ++a) {
    Column c{aggs[a].output, {}};
    for (const auto& rows_of_group : members) {
      std::vector<Value> values;
      values.reserve(rows_of_group.size());
      for (std::size_t r : rows_of_group)
        values.push_back(columns.empty() ? Value{} : columns[agg_cols[a]].values[r]);
      c.values.push_back(aggregate(values, aggs[a].op));
    }
    out.columns.push_back(std::move(c));
  }
  return out;
}

DataFrame DataFrame::describe() const {
  static const char* kStats[] = {"count", "mean", "std", "min", "25%", "50%", "75%", "max"};
  DataFrame out;
  Column names{"stat", {}};
  for (const char* s : kStats) names.values.emplace_back(std::string(s));
  out.columns.push_back(std::move(names));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (!is_numeric(c)) continue;
    std::vector<double> v = numbers(columns[c].name);
    Column col{columns[c].name, {}};
    col.values.emplace_back(static_cast<std::int64_t>(v.size()));
    col.values.emplace_back(stats::mean(v));
    col.values.push_back(v.size() >= 2 ? Value{stats::stddev(v)} : Value{});
    std::sort(v.begin(), v.end());
    col.values.emplace_back(v.front());
    for (double q : {0.25, 0.5, 0.75}) col.values.emplace_back(stats::quantile(v, q));
    col.values.emplace_back(v.back());
    out.columns.push_back(std::move(col));
  }
  return out;
}

DataFrame DataFrame::join(const DataFrame& right, const std::string& on, const std::string& how) const {
  if (how != "inner" && how != "left") throw std::invalid_argument("join: how must be \"inner\" or \"left\"");
  const std::size_t lk = index_of(on);
  const std::size_t rk = right.index_of(on);
  auto less = [](const Value& a, const Value& b) { return compare_values(a, b) < 0; };
  std::map<Value, std::vector<std::size_t>, decltype(less)> right_rows(less);
  for (std::size_t r = 0; r < right.rows(); ++r) {
    if (!is_missing(right.columns[rk].values[r])) right_rows[right.columns[rk].values[r]].push_back(r);
  }
  std::vector<std::size_t> left_idx;
  std::vector<std::optional<std::size_t>> right_idx;
  for (std::size_t r = 0; r < rows(); ++r) {
    auto it = right_rows.find(columns[lk].values[r]);
    if (it == right_rows.end()) {
      if (how == "left") {
        left_idx.push_back(r);
        right_idx.push_back(std::nullopt);
      }
      continue;
    }
    if (left_idx.size() + it->second.size() > kMaxJoinRows) {
      throw std::invalid_argument("join: the result would have more than " + std::to_string(kMaxJoinRows) +
                                  " rows (many rows share a key)");
    }
    for (std::size_t rr : it->second) {
      left_idx.push_back(r);
      right_idx.push_back(rr);
    }
  }
  DataFrame out = take(left_idx);
  for (std::size_t c = 0; c < right.columns.size(); ++c) {
    if (c == rk) continue;
    std::string name = right.columns[c].name;
    for (const auto& existing : out.columns) {
      if (existing.name == name) {
        name += "_right";
        break;
      }
    }
    Column col{name, {}};
    col.values.reserve(right_idx.size());
    for (const auto& r : right_idx) col.values.push_back(r ? right.columns[c].values[*r] : Value{});
    out.columns.push_back(std::move(col));
  }
  return out;
}

std::string DataFrame::to_text(std::size_t max_rows) const {
  const std::size_t shown = std::min(max_rows, rows());
  std::vector<std::vector<std::string>> cells(columns.size());
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    width[c] = columns[c].name.size();
    for (std::size_t r = 0; r < shown; ++r) {
      std::string t = is_missing(columns[c].values[r]) ? "nil" : value_text(columns[c].values[r]);
      if (t.size() > 40) t = t.substr(0, 37) + "...";
      width[c] = std::max(width[c], t.size());
      cells[c].push_back(std::move(t));
    }
  }
  std::string out;
  auto pad = [](const std::string& s, std::size_t w) {
    return s + std::string(w - std::min(w, s.size()), ' ');
  };
  for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? "  " : "") + pad(columns[c].name, width[c]);
  out += '\n';
  for (std::size_t r = 0; r < shown; ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? "  " : "") + pad(cells[c][r], width[c]);
    out += '\n';
  }
  if (shown < rows()) out += "... (" + std::to_string(rows() - shown) + " more rows)\n";
  out += "[" + std::to_string(rows()) + " rows x " + std::to_string(columns.size()) + " columns]";
  return out;
}

std::size_t DataFrame::approx_bytes() const {
  std::size_t bytes = sizeof(DataFrame);
  for (const auto& c : columns) {
    bytes += sizeof(Column) + c.name.capacity() + c.values.capacity() * sizeof(Value);
    for (const auto& v : c.values) {
      if (const auto* s = std::get_if<std::string>(&v)) {
        if (s->size() >= 16) bytes += s->capacity();
      }
    }
  }
  return bytes;
}

}  // namespace agentrt::sandbox
