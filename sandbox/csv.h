// RFC 4180 CSV: quoted fields with doubled quotes, embedded delimiters and newlines, CRLF or LF, a UTF-8 BOM,
// and a header row; column types inferred (integer, float, boolean, string; empty fields are missing).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/dataframe.h"

namespace agentrt::sandbox {

struct CsvOptions {
  char delimiter = ',';
  bool header = true;  // false: columns are named c1, c2, ...
  bool infer_types = true;
};

// The records of `text` as strings; throws std::invalid_argument (with the line) on an unterminated quote.
std::vector<std::vector<std::string>> parse_csv_records(std::string_view text, char delimiter = ',');

// A frame from CSV text; short rows are padded with missing values, long rows are an error naming the line.
DataFrame parse_csv(std::string_view text, const CsvOptions& options = {});

// The frame as CSV (header row, LF line ends, fields quoted when they need it).
std::string to_csv(const DataFrame& frame, char delimiter = ',');

// "3" → integer, "2.5" / "1e3" → float, "true"/"false" → boolean, "" → missing, else the string itself.
Value infer_value(std::string_view field);

}  // namespace agentrt::sandbox
