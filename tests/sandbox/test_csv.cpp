// CSV edge cases: quotes, embedded delimiters and newlines, empty fields, BOM, CRLF, type inference, errors.
#include <gtest/gtest.h>

#include "sandbox/csv.h"

namespace agentrt::sandbox {
namespace {

using Records = std::vector<std::vector<std::string>>;

TEST(Csv, QuotedFieldsWithDelimitersQuotesAndNewlines) {
  const auto r = parse_csv_records("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n\"multi\nline\",x\n");
  EXPECT_EQ(r, (Records{{"name", "note"}, {"Smith, J", "said \"hi\""}, {"multi\nline", "x"}}));
}

TEST(Csv, EmptyFieldsAndEmptyQuotedFields) {
  EXPECT_EQ(parse_csv_records("a,b,c\n,,\n\"\",x,\n"),
            (Records{{"a", "b", "c"}, {"", "", ""}, {"", "x", ""}}));
}

TEST(Csv, BomCrlfAndNoFinalNewline) {
  EXPECT_EQ(parse_csv_records("\xEF\xBB\xBFid,v\r\n1,2\r\n3,4"),
            (Records{{"id", "v"}, {"1", "2"}, {"3", "4"}}));
}

TEST(Csv, BlankLinesAreSkippedAndOtherDelimitersWork) {
  EXPECT_EQ(parse_csv_records("a;b\n\n1;2\n", ';'), (Records{{"a", "b"}, {"1", "2"}}));
}

TEST(Csv, UnterminatedQuoteNamesItsLine) {
  try {
    parse_csv_records("a,b\n1,\"open\n2,3\n");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "csv: unterminated quoted field starting on line 2");
  }
}

TEST(Csv, TypesAreInferredPerColumn) {
  const DataFrame f = parse_csv("i,f,b,s,m,e\n1,2.5,true,x,1,\n-3,1e3,false,y,two,\n+4,.5,TRUE,,3,\n");
  ASSERT_EQ(f.rows(), 3u);
  EXPECT_EQ(f.column("i").values[0], Value{std::int64_t{1}});
  EXPECT_EQ(f.column("i").values[2], Value{std::int64_t{4}});
  EXPECT_EQ(f.column("f").values[1], Value{1000.0});
  EXPECT_EQ(f.column("f").values[2], Value{0.5});
  EXPECT_EQ(f.column("b").values[2], Value{true});
  EXPECT_TRUE(is_missing(f.column("s").values[2]));
  // A column mixing numbers and text stays text, as written.
  EXPECT_EQ(f.column("m").values[0], Value{std::string("1")});
  EXPECT_EQ(f.column("m").values[1], Value{std::string("two")});
  EXPECT_TRUE(is_missing(f.column("e").values[0]));
}

TEST(Csv, ShortRowsArePaddedAndLongRowsRefused) {
  const DataFrame f = parse_csv("a,b,c\n1\n");
  EXPECT_EQ(f.rows(), 1u);
  EXPECT_TRUE(is_missing(f.column("c").values[0]));
  EXPECT_THROW(parse_csv("a\n1,2\n"), std::invalid_argument);
}

TEST(Csv, HeaderlessFramesGetNumberedColumns) {
  CsvOptions o;
  o.header = false;
  const DataFrame f = parse_csv("1,2\n3,4\n", o);
  EXPECT_EQ(f.columns[1].name, "c2");
  EXPECT_EQ(f.rows(), 2u);
}

TEST(Csv, WritingQuotesWhatNeedsIt) {
  const DataFrame f = parse_csv("name,n\n\"a,b\",1\n\"q\"\"x\",2.5\n\"l1\nl2\",\n");
  EXPECT_EQ(to_csv(f), "name,n\n\"a,b\",1\n\"q\"\"x\",2.5\n\"l1\nl2\",\n");
  EXPECT_EQ(parse_csv_records(to_csv(f)),
            parse_csv_records("name,n\n\"a,b\",1\n\"q\"\"x\",2.5\n\"l1\nl2\",\n"));
}

}  // namespace
}  // namespace agentrt::sandbox
