#include "util/csv.h"

#include <csv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace alexnet {

namespace {

bool NeedsQuotes(const std::string& field) { return field.find_first_of(",\"\r\n") != std::string::npos; }

// What the libcsv callbacks build: the records so far and the line being parsed.
struct ParseState {
  CsvTable table;
  std::vector<std::string> record;
  int line = 1;
  bool have_header = false;
};

void OnField(void* data, size_t len, void* state) {
  auto* s = static_cast<ParseState*>(state);
  s->record.emplace_back(data ? static_cast<const char*>(data) : "", data ? len : 0);
}

void OnRecordEnd(int /*terminator*/, void* state) {
  auto* s = static_cast<ParseState*>(state);
  if (!s->have_header) {
    s->table.header = std::move(s->record);
    s->have_header = true;
  } else {
    s->table.rows.push_back(std::move(s->record));
    s->table.row_lines.push_back(s->line);
  }
  s->record.clear();
}

// Fields are taken as written: no spaces trimmed (a class name may start with one).
int NoSpace(unsigned char) { return 0; }

struct ParserDeleter {
  void operator()(csv_parser* p) const {
    csv_free(p);
    delete p;
  }
};

Status CheckWidths(const CsvTable& t, const std::string& path) {
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i].size() > t.header.size()) {
      return Status::BadInput(path, "line " + std::to_string(t.row_lines[i]) + ": " +
                                     std::to_string(t.rows[i].size()) + " fields, but the header has " +
                                     std::to_string(t.header.size()));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string CsvField(const std::string& field) {
  if (!NeedsQuotes(field)) return field;
  std::string out(csv_write(nullptr, 0, field.data(), field.size()), '\0');
  csv_write(out.data(), out.size(), field.data(), field.size());
  return out;
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + CsvField(fields[i]);
  return line;
}

std::string CsvNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

int CsvTable::Column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

const std::string& CsvTable::Field(size_t row, int column) const {
  static const std::string kEmpty;
  if (row >= rows.size() || column < 0 || static_cast<size_t>(column) >= rows[row].size()) return kEmpty;
  return rows[row][column];
}

alexnet::Result<CsvTable> ParseCsv(const std::string& text, const std::string& path) {
  std::unique_ptr<csv_parser, ParserDeleter> parser(new csv_parser);
  if (csv_init(parser.get(), CSV_STRICT | CSV_STRICT_FINI) != 0) {
    delete parser.release();
    return Status::Error(StatusCode::kInternal, path, "cannot start the CSV parser (out of memory)");
  }
  csv_set_space_func(parser.get(), NoSpace);
  ParseState s;
  // Line by line, so a parse error (and every row) knows its line number.
  for (size_t pos = 0; pos < text.size(); ++s.line) {
    const size_t end = std::min(text.find('\n', pos), text.size() - 1) + 1;
    if (csv_parse(parser.get(), text.data() + pos, end - pos, OnField, OnRecordEnd, &s) != end - pos) {
      return Status::BadInput(path, "line " + std::to_string(s.line) + ": " +
                                     csv_strerror(csv_error(parser.get())) + " (malformed quoting?)");
    }
    pos = end;
  }
  if (csv_fini(parser.get(), OnField, OnRecordEnd, &s) != 0) {
    return Status::BadInput(path, "line " + std::to_string(s.line - 1) + ": a quoted field is not closed");
  }
  if (!s.have_header) return Status::BadInput(path, "empty file (expected a header line)");
  ALEXNET_RETURN_IF_ERROR(CheckWidths(s.table, path));
  return std::move(s.table);
}

alexnet::Result<CsvTable> ReadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(ErrnoCode(errno), path, std::string("cannot open (") + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::Io(path, std::string("read failed (") + std::strerror(errno) + ")");
  return ParseCsv(text.str(), path);
}

}  // namespace alexnet
