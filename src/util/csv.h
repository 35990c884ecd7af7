// CSV files of a run (metrics.csv, train_eval.csv, evaluation tables), written and read through
// libcsv (Debian's libcsv-dev, an RFC 4180 parser and writer), so a class name holding a comma,
// a double quote or a line break survives the round trip.
//
// Writing quotes a field only when it needs it (a comma, double quote, CR or LF), so files of
// numbers stay exactly as plain as gnuplot, Python and spreadsheet readers expect.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet {

// One field as it appears in a line: unchanged, or quoted ("a,""b""") when it has to be.
std::string CsvField(const std::string& field);

// One line (without the line break): the fields, each through CsvField, joined by commas.
std::string CsvRow(const std::vector<std::string>& fields);

// A number as the run's CSV files write it: 6 significant digits, like an ostream's default
// (0.247222, 1e-05, 12, nan).
std::string CsvNumber(double v);

// A whole file: the first record is the header; empty lines are skipped.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // may be shorter than the header (missing = "")
  std::vector<int> row_lines;                  // the line (1-based) each row ends on, for messages

  // The index of the column named `name`, or -1.
  int Column(const std::string& name) const;
  // Field `column` of row `row`; "" when the row is shorter or column is -1.
  const std::string& Field(size_t row, int column) const;
};

// Reads and parses `path`. Errors name the file, and the line for malformed content
// ("metrics.csv: line 3: ..."); a row with more fields than the header is malformed.
alexnet::Result<CsvTable> ReadCsv(const std::string& path);

// The same on text already in memory; `path` is only used in messages.
alexnet::Result<CsvTable> ParseCsv(const std::string& text, const std::string& path);

}  // namespace alexnet
