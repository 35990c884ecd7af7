// train/csv.h: the libcsv wrapper the run's CSV files go through.
#include "util/csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace alexnet {
namespace {

namespace fs = std::filesystem;

fs::path TempFile(const std::string& name, const std::string& content) {
  const fs::path dir = fs::temp_directory_path() / ("alexnet-csv-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << content;
  return dir / name;
}

TEST(Csv, NumbersAndPlainWordsAreWrittenUnquoted) {
  EXPECT_EQ(CsvRow({"epoch", "step", "train_loss"}), "epoch,step,train_loss");
  EXPECT_EQ(CsvRow({"1", "10", "", "0.45"}), "1,10,,0.45");
  EXPECT_EQ(CsvNumber(0.2472222), "0.247222");
  EXPECT_EQ(CsvNumber(12), "12");
  EXPECT_EQ(CsvNumber(1e-5), "1e-05");
}

TEST(Csv, AClassNameWithACommaAndADoubleQuoteRoundTrips) {
  const std::string name = "T-shirt, \"top\"";
  EXPECT_EQ(CsvField(name), "\"T-shirt, \"\"top\"\"\"");
  const std::string multi = "two\nlines";
  const fs::path path = TempFile("names.csv", CsvRow({"class", "name"}) + "\n" + CsvRow({"0", name}) + "\n" +
                                                  CsvRow({"1", " padded "}) + "\n" + CsvRow({"2", multi}) + "\n");
  const auto t = ReadCsv(path.string());
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->Field(0, t->Column("name")), name);
  EXPECT_EQ(t->Field(1, t->Column("name")), " padded ");
  EXPECT_EQ(t->Field(2, t->Column("name")), multi);
  EXPECT_EQ(t->row_lines[0], 2);
  EXPECT_EQ(t->row_lines[2], 5);  // the quoted line break counts
  fs::remove_all(path.parent_path());
}

TEST(Csv, EmptyFieldsShortRowsAndBlankLines) {
  const auto t = ParseCsv("a,b,c\n1,,\n\n2\n", "mem.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{"1", "", ""}));
  EXPECT_EQ(t->Field(1, 0), "2");
  EXPECT_EQ(t->Field(1, 2), "");
  EXPECT_EQ(t->Field(1, t->Column("absent")), "");
  EXPECT_EQ(t->row_lines[1], 4);
}

TEST(Csv, AMalformedFileGivesAnErrorNamingThePathAndTheLine) {
  const fs::path bad = TempFile("bad.csv", "epoch,name\n1,ok\n2,\"x\"y\n");
  const auto t = ReadCsv(bad.string());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().path(), bad.string());
  EXPECT_NE(t.status().message().find(bad.string() + ": line 3"), std::string::npos) << t.status().message();

  const auto open = ParseCsv("a\n\"never closed\n", "open.csv");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("open.csv"), std::string::npos) << open.status().message();

  const auto wide = ParseCsv("a,b\n1,2,3\n", "wide.csv");
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.status().message().find("wide.csv: line 2: 3 fields"), std::string::npos)
      << wide.status().message();

  const auto absent = ReadCsv((bad.parent_path() / "absent.csv").string());
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("absent.csv: cannot open"), std::string::npos);
  EXPECT_FALSE(ParseCsv("", "empty.csv").ok());
  fs::remove_all(bad.parent_path());
}

}  // namespace
}  // namespace alexnet
