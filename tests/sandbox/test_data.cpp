// stats and df against known values (reference figures from numpy/pandas conventions: sample variance,
// linear-interpolated quantiles), and the Lua bindings of csv, df and stats.
#include <gtest/gtest.h>

#include "sandbox/dataframe.h"
#include "sandbox/interpreter.h"
#include "sandbox/stats.h"
#include "test_support.h"

namespace agentrt::sandbox {
namespace {

TEST(Stats, KnownValues) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(stats::mean(v), 5.0);
  EXPECT_DOUBLE_EQ(stats::variance(v), 32.0 / 7.0);
  EXPECT_DOUBLE_EQ(stats::stddev(v), std::sqrt(32.0 / 7.0));
  EXPECT_DOUBLE_EQ(stats::median(v), 4.5);
  EXPECT_DOUBLE_EQ(stats::quantile(v, 0.25), 4.0);
  EXPECT_DOUBLE_EQ(stats::quantile(v, 0.9), 7.6);  // numpy.quantile(v, 0.9)
  EXPECT_DOUBLE_EQ(stats::quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(stats::sum({0.1, 0.2, 0.3}), 0.6);
  EXPECT_THROW(stats::mean({}), std::invalid_argument);
  EXPECT_THROW(stats::variance({1}), std::invalid_argument);
}

TEST(Stats, CorrelationAndRegression) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  const std::vector<double> y = {2, 4.1, 5.9, 8.2, 9.8};
  const auto fit = stats::linear_regression(x, y);
  EXPECT_NEAR(fit.slope, 1.97, 1e-12);  // numpy.polyfit(x, y, 1)
  EXPECT_NEAR(fit.intercept, 0.09, 1e-12);
  EXPECT_NEAR(stats::correlation(x, y), 0.9988296493298858, 1e-12);  // numpy.corrcoef
  EXPECT_NEAR(fit.r2, 0.9988296493298858 * 0.9988296493298858, 1e-12);
  EXPECT_DOUBLE_EQ(stats::correlation(x, {5, 4, 3, 2, 1}), -1.0);
  EXPECT_THROW(stats::correlation(x, {1, 2}), std::invalid_argument);
}

DataFrame sales() {
  DataFrame f;
  f.columns.push_back(
      {"region", {std::string("n"), std::string("s"), std::string("n"), std::string("e"), std::string("s")}});
  f.columns.push_back(
      {"units", {std::int64_t{10}, std::int64_t{5}, std::int64_t{7}, Value{}, std::int64_t{3}}});
  f.columns.push_back({"price", {2.0, 4.0, 3.0, 1.0, 5.0}});
  return f;
}

TEST(DataFrame, GroupByAggregatesInFirstAppearanceOrder) {
  const DataFrame g = sales().group_aggregate(
      {"region"},
      {{"units", "sum", "units_sum"}, {"price", "mean", "price_mean"}, {"units", "count", "n_units"}});
  ASSERT_EQ(g.rows(), 3u);
  EXPECT_EQ(g.column("region").values[0], Value{std::string("n")});
  EXPECT_EQ(g.column("units_sum").values[0], Value{std::int64_t{17}});
  EXPECT_EQ(g.column("units_sum").values[1], Value{std::int64_t{8}});
  EXPECT_EQ(g.column("units_sum").values[2], Value{std::int64_t{0}});
  EXPECT_EQ(g.column("price_mean").values[1], Value{4.5});
  EXPECT_EQ(g.column("n_units").values[2], Value{std::int64_t{0}});
}

TEST(DataFrame, SortPutsMissingLastAndIsStable) {
  const DataFrame s = sales().sort_by({"units"}, {true});
  EXPECT_EQ(s.column("units").values[0], Value{std::int64_t{10}});
  EXPECT_TRUE(is_missing(s.column("units").values[4]));
  const DataFrame r = sales().sort_by({"region", "price"}, {false, true});
  EXPECT_EQ(r.column("price").values[0], Value{1.0});  // e
  EXPECT_EQ(r.column("price").values[1], Value{3.0});  // n, price desc
}

TEST(DataFrame, DescribeMatchesPandas) {
  const DataFrame d = sales().describe();
  // pandas: df.describe() of price [2, 4, 3, 1, 5]
  const auto& p = d.column("price").values;
  EXPECT_EQ(p[0], Value{std::int64_t{5}});
  EXPECT_EQ(p[1], Value{3.0});
  EXPECT_DOUBLE_EQ(*as_number(p[2]), std::sqrt(2.5));
  EXPECT_EQ(p[3], Value{1.0});
  EXPECT_EQ(p[4], Value{2.0});
  EXPECT_EQ(p[5], Value{3.0});
  EXPECT_EQ(p[6], Value{4.0});
  EXPECT_EQ(p[7], Value{5.0});
  EXPECT_EQ(d.column("units").values[0], Value{std::int64_t{4}});  // missing skipped
  EXPECT_THROW(d.column("region"), std::invalid_argument);
}

TEST(DataFrame, InnerAndLeftJoin) {
  DataFrame names;
  names.columns.push_back({"region", {std::string("n"), std::string("s")}});
  names.columns.push_back({"name", {std::string("North"), std::string("South")}});
  const DataFrame inner = sales().join(names, "region", "inner");
  EXPECT_EQ(inner.rows(), 4u);
  EXPECT_EQ(inner.column("name").values[1], Value{std::string("South")});
  const DataFrame left = sales().join(names, "region", "left");
  EXPECT_EQ(left.rows(), 5u);
  EXPECT_TRUE(is_missing(left.column("name").values[3]));
  EXPECT_THROW(sales().join(names, "region", "outer"), std::invalid_argument);
}

class LuaData : public ::testing::Test {
 protected:
  testing::TempWorkspace ws;
  Interpreter lua{testing::test_limits(), ws.path()};
  std::string value(std::string_view code) {
    const auto r = lua.run_cell(code);
    EXPECT_TRUE(r.ok) << code << "\n" << r.error;
    return r.value;
  }
};

TEST_F(LuaData, CsvToFrameToStats) {
  value(
      "fs.write('s.csv', 'city,temp,rain\\nA,20.5,1\\nB,18,0\\nA,22.5,3\\nC,,2\\n')\nd = csv.read('s.csv')");
  EXPECT_EQ(value("return d:nrow(), d:ncol(), #d"), "4\t3\t4");
  EXPECT_EQ(value("stats.mean(d, 'temp')"), "20.333333333333");
  EXPECT_EQ(value("stats.median({5, 1, 3})"), "3.0");
  EXPECT_EQ(value("stats.quantile({1, 2, 3, 4}, 0.25)"), "1.75");
  EXPECT_EQ(value("local f = stats.linreg({1, 2, 3}, {2, 4, 6})\nreturn f.slope, f.intercept, f.r2"),
            "2.0\t0.0\t1.0");
  EXPECT_EQ(value("d:group_by('city'):agg({temp = 'mean', rain = {'sum', 'max'}}):columns()"),
            "{\"city\", \"temp_mean\", \"rain_sum\", \"rain_max\"}");
  EXPECT_EQ(value("local g = d:group_by('city'):agg({temp = 'mean'})\nreturn g:row(1).temp_mean"), "21.5");
  EXPECT_EQ(value("d:filter(function(r) return r.rain > 0 end):col('city')"), "{\"A\", \"A\", \"C\"}");
  EXPECT_EQ(value("d:sort('temp', 'desc'):head(2):col('temp')"), "{22.5, 20.5}");
  EXPECT_EQ(value("d:mutate('hot', function(r) return (r.temp or 0) > 20 end):col('hot')"),
            "{true, false, true, false}");
  EXPECT_EQ(value("d:select('city', 'rain'):columns()"), "{\"city\", \"rain\"}");
  EXPECT_EQ(value("csv.encode(d:head(1))"), "city,temp,rain\nA,20.5,1\n");
  EXPECT_EQ(value("df.new({x = {1, 2}, y = {'a', 'b'}}):row(2).y"), "b");
  EXPECT_EQ(value("df.from_rows({{a = 1}, {a = 2, b = 'z'}}):col('b')[2]"), "z");
  const auto bad = lua.run_cell("d:col('nope')");
  EXPECT_NE(bad.error.find("no column 'nope' (columns: city, temp, rain)"), std::string::npos) << bad.error;
}

TEST_F(LuaData, FramePrintsAsAnAlignedTable) {
  EXPECT_EQ(value("df.new({n = {1, 22}, s = {'x', nil}}, {'s', 'n'})"),
            "s    n \nx    1 \nnil  22\n[2 rows x 2 columns]");
}

}  // namespace
}  // namespace agentrt::sandbox
