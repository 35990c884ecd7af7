// Image folders: class order, file order and extensions, validation split, list files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/image_folder.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;
namespace fs = std::filesystem;

std::vector<std::string> names_of(const ImageFolderDataset& ds, const fs::path& root) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ds.size(); ++i) out.push_back(fs::relative(ds.path(i), root).string());
  return out;
}

TEST(ImageFolder, SortedClassesAndFiles) {
  TempDir dir;
  const cv::Mat img = pattern_image(10, 8);
  for (const char* f : {"zebra/b.png", "zebra/A.JPG", "zebra/nested/c.Png", "cat/2.jpeg",
                        "cat/10.bmp", "Dog/x.webp", "cat/.hidden.png", ".git/x.png"}) {
    write_rgb(dir.file(f), img);
  }
  write_bytes(dir.file("cat/labels.csv"), {'x'});
  ImageFolderOptions o;
  o.root = dir.path().string();
  auto ds = ImageFolderDataset::Open(o);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  // Byte order, as Python's sorted(): upper case first.
  EXPECT_EQ((*ds)->class_names(), (std::vector<std::string>{"Dog", "cat", "zebra"}));
  EXPECT_EQ(names_of(**ds, dir.path()),
            (std::vector<std::string>{"Dog/x.webp", "cat/10.bmp", "cat/2.jpeg", "zebra/A.JPG",
                                      "zebra/b.png", "zebra/nested/c.Png"}));
  EXPECT_EQ((*ds)->label(0), 0);
  EXPECT_EQ((*ds)->label(2), 1);
  EXPECT_EQ((*ds)->label(5), 2);
  EXPECT_EQ((*ds)->ignored_files(), 1u);
  auto rgb = (*ds)->Load(3);
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->cols, 10);
}

TEST(ImageFolder, ImageExtensions) {
  EXPECT_TRUE(HasImageExtension("a.JPEG"));
  EXPECT_TRUE(HasImageExtension("a.b.tiff"));
  EXPECT_FALSE(HasImageExtension("a.txt"));
  EXPECT_FALSE(HasImageExtension("jpg"));
  EXPECT_FALSE(HasImageExtension(".jpg"));
}

TEST(ImageFolder, StratifiedSeededValidationSplit) {
  TempDir dir;
  const cv::Mat img = pattern_image(4, 4);
  for (int i = 0; i < 20; ++i) write_rgb(dir.file("a/" + std::to_string(100 + i) + ".png"), img);
  for (int i = 0; i < 10; ++i) write_rgb(dir.file("b/" + std::to_string(100 + i) + ".png"), img);
  ImageFolderOptions o;
  o.root = dir.path().string();
  o.split = {0.2, 11, Subset::kVal};
  auto val = ImageFolderDataset::Open(o);
  o.split.subset = Subset::kTrain;
  auto train = ImageFolderDataset::Open(o);
  o.split.subset = Subset::kVal;
  auto val_again = ImageFolderDataset::Open(o);
  o.split.seed = 12;
  auto val_other = ImageFolderDataset::Open(o);
  ASSERT_TRUE(val.ok() && train.ok() && val_again.ok() && val_other.ok());
  EXPECT_EQ((*val)->size(), 6u);  // 4 of a, 2 of b
  EXPECT_EQ((*train)->size(), 24u);
  int val_a = 0;
  for (std::size_t i = 0; i < (*val)->size(); ++i) val_a += (*val)->label(i) == 0;
  EXPECT_EQ(val_a, 4);
  std::set<std::string> all;
  for (std::size_t i = 0; i < (*val)->size(); ++i) all.insert((*val)->path(i));
  for (std::size_t i = 0; i < (*train)->size(); ++i) all.insert((*train)->path(i));
  EXPECT_EQ(all.size(), 30u);  // disjoint and complete
  EXPECT_EQ(names_of(**val, dir.path()), names_of(**val_again, dir.path()));
  EXPECT_NE(names_of(**val, dir.path()), names_of(**val_other, dir.path()));
  o.split = {1.5, 0, Subset::kVal};
  EXPECT_FALSE(ImageFolderDataset::Open(o).ok());
}

TEST(ImageFolder, LimitKeepsASeededSampleOfAllClasses) {
  TempDir dir;
  const cv::Mat img = pattern_image(4, 4);
  for (const char* c : {"a", "b", "c"})
    for (int i = 0; i < 10; ++i) write_rgb(dir.file(std::string(c) + "/" + std::to_string(i) + ".png"), img);
  ImageFolderOptions o;
  o.root = dir.path().string();
  o.limit = 9;
  auto ds = ImageFolderDataset::Open(o);
  auto again = ImageFolderDataset::Open(o);
  ASSERT_TRUE(ds.ok() && again.ok());
  ASSERT_EQ((*ds)->size(), 9u);
  EXPECT_EQ(names_of(**ds, dir.path()), names_of(**again, dir.path()));
  std::set<int> labels;
  for (std::size_t i = 0; i < 9; ++i) labels.insert((*ds)->label(i));
  EXPECT_GT(labels.size(), 1u);  // not just the first class
  auto names = names_of(**ds, dir.path());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(ImageFolder, ClassNamesOption) {
  TempDir dir;
  write_rgb(dir.file("b/x.png"), pattern_image(4, 4));
  ImageFolderOptions o;
  o.root = dir.path().string();
  o.class_names = {"a", "b", "c"};
  auto ds = ImageFolderDataset::Open(o);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ((*ds)->label(0), 1);
  EXPECT_EQ((*ds)->class_names().size(), 3u);
  o.class_names = {"a"};
  auto bad = ImageFolderDataset::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().path(), dir.file("b"));
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

TEST(ImageFolder, ListFileWithNamesAndIntegers) {
  TempDir dir;
  const cv::Mat img = pattern_image(6, 6);
  write_rgb(dir.file("imgs/one.png"), img);
  write_rgb(dir.file("imgs/two words.png"), img);
  write_rgb(dir.file("abs.png"), img);
  write_text(dir.file("lists/names.txt"), "# path label\n\n../imgs/one.png  dog\n../imgs/two words.png\tcat\r\n" +
                                              dir.file("abs.png") + " dog\n");
  ImageFolderOptions o;
  o.list_file = dir.file("lists/names.txt");
  auto ds = ImageFolderDataset::Open(o);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  EXPECT_EQ((*ds)->class_names(), (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ((*ds)->size(), 3u);
  EXPECT_EQ((*ds)->label(0), 1);
  EXPECT_EQ((*ds)->label(1), 0);
  EXPECT_TRUE((*ds)->Load(1).ok());  // a path with a space, relative to the list's folder
  EXPECT_TRUE((*ds)->Load(2).ok());  // an absolute path

  write_text(dir.file("lists/ints.txt"), "../imgs/one.png 3\n../imgs/two words.png 0\n");
  o.list_file = dir.file("lists/ints.txt");
  ds = ImageFolderDataset::Open(o);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ((*ds)->class_names().size(), 4u);
  EXPECT_EQ((*ds)->label(0), 3);

  write_text(dir.file("lists/bad.txt"), "../imgs/one.png 3\njustapath\n");
  o.list_file = dir.file("lists/bad.txt");
  auto bad = ImageFolderDataset::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().path(), dir.file("lists/bad.txt") + ":2");

  write_text(dir.file("lists/unknown.txt"), "../imgs/one.png bird\n");
  o.list_file = dir.file("lists/unknown.txt");
  o.class_names = {"cat", "dog"};
  bad = ImageFolderDataset::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().reason().find("'bird' is not one of the 2 classes"), std::string::npos);

  o.list_file = dir.file("lists/missing.txt");
  bad = ImageFolderDataset::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "no such list file");
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace alexnet::data
