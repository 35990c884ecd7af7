// Inputs the fuzz targets (fuzz/) found a bug with, each kept in tests/data/regressions/ and
// fed to the same entry point as the target that found it. See docs/reliability.md.
#include <gtest/gtest.h>

#include <string>

#include "data/image_folder.h"

namespace alexnet::data {
namespace {

std::string regression(const std::string& name) { return std::string(ALEXNET_REGRESSIONS_DIR) + "/" + name; }

// fuzz_list_file: one line "8888\0\0\0\08\t8888888" made 8,888,889 class names (a timeout under ASan,
// hundreds of MB) before any check; an integer label above 999,999 is now refused with its line.
TEST(FuzzRegression, ListFileWithAHugeIntegerLabel) {
  ImageFolderOptions o;
  o.list_file = regression("list_file_label_8888888.txt");
  const auto ds = ImageFolderDataset::open(o);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().path(), o.list_file + ":1");
  EXPECT_NE(ds.status().reason().find("label 8888888 is too large"), std::string::npos) << ds.status().reason();
}

}  // namespace
}  // namespace alexnet::data
