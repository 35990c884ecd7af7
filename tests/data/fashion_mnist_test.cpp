// Fashion-MNIST: a handmade idx pair through the whole pipeline, errors, and (when Debian's
// dataset-fashion-mnist package is installed) the real files.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/fashion_mnist.h"
#include "data/loader.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

std::vector<std::uint8_t> idx(std::uint8_t ndims, const std::vector<std::uint32_t>& dims,
                              const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> b = {0, 0, 0x08, ndims};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// n images of 28 x 28: image i is filled with value i * 10, label i % 10.
void write_fake(const TempDir& dir, const std::string& prefix, int n, int bad_label = -1) {
  std::vector<std::uint8_t> pixels, labels;
  for (int i = 0; i < n; ++i) {
    pixels.insert(pixels.end(), 28 * 28, static_cast<std::uint8_t>(i * 10));
    labels.push_back(static_cast<std::uint8_t>(i == bad_label ? 12 : i % 10));
  }
  write_bytes(dir.file(prefix + "-images-idx3-ubyte.gz"),
              gzip(idx(3, {static_cast<std::uint32_t>(n), 28, 28}, pixels)));
  write_bytes(dir.file(prefix + "-labels-idx1-ubyte.gz"), gzip(idx(1, {static_cast<std::uint32_t>(n)}, labels)));
}

TEST(FashionMnist, ClassNames) {
  const auto& names = FashionMnistClassNames();
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[0], "T-shirt/top");
  EXPECT_EQ(names[9], "Ankle boot");
}

TEST(FashionMnist, HandmadeFilesThroughThePipeline) {
  TempDir dir;
  write_fake(dir, "t10k", 20);
  FashionMnistOptions o;
  o.dir = dir.path().string();
  o.train = false;
  auto ds = FashionMnistDataset::Open(o);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  EXPECT_EQ((*ds)->size(), 20u);
  EXPECT_EQ((*ds)->label(13), 3);
  EXPECT_EQ((*ds)->name(13), dir.file("t10k-images-idx3-ubyte.gz") + "#13");
  auto img = (*ds)->Load(5);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->type(), CV_8UC3);
  EXPECT_EQ(img->cols, 28);
  EXPECT_EQ(img->at<cv::Vec3b>(3, 4), cv::Vec3b(50, 50, 50));  // grey -> 3 channels

  LoaderOptions lo;
  lo.batch_size = 8;
  lo.shuffle = false;
  lo.augment = false;
  lo.preprocess = {72, 64, MeanMode::kNone};
  auto loader = Loader::Create(*ds, lo);
  ASSERT_TRUE(loader.ok());
  Batch b;
  ASSERT_TRUE((*loader)->Next(b));
  EXPECT_EQ(b.size, 8);
  EXPECT_EQ(b.images.size(), 8u * 64 * 64 * 3);
  EXPECT_EQ(b.images[0], 0.0f);
  EXPECT_EQ(b.images[64 * 64 * 3 * 2 + 100], 20.0f);  // a constant image stays constant
  EXPECT_EQ(b.labels[7], 7);

  o.limit = 5;
  auto limited = FashionMnistDataset::Open(o);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ((*limited)->size(), 5u);
}

TEST(FashionMnist, Errors) {
  TempDir dir;
  FashionMnistOptions o;
  o.dir = dir.file("none");
  auto r = FashionMnistDataset::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().reason().find("no such directory"), std::string::npos);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);

  o.dir = dir.path().string();
  r = FashionMnistDataset::Open(o);  // no train files
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().path(), dir.file("train-images-idx3-ubyte.gz"));

  write_fake(dir, "train", 12, /*bad_label=*/4);
  r = FashionMnistDataset::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().reason().find("label 12 of sample 4"), std::string::npos);

  TempDir dir2;
  write_fake(dir2, "train", 12);
  write_bytes(dir2.file("train-labels-idx1-ubyte.gz"), gzip(idx(1, {11}, std::vector<std::uint8_t>(11))));
  o.dir = dir2.path().string();
  r = FashionMnistDataset::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().reason().find("11 labels for 12 images"), std::string::npos);
}

TEST(FashionMnist, InstalledDataset) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  FashionMnistOptions o;
  o.train = false;
  auto test = FashionMnistDataset::Open(o);
  ASSERT_TRUE(test.ok()) << test.status().message();
  EXPECT_EQ((*test)->size(), 10000u);
  std::vector<int> per_class(10);
  for (std::size_t i = 0; i < (*test)->size(); ++i) per_class[(*test)->label(i)]++;
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 1000);
  // Stratified validation split: 10 % of each class.
  o.split = {0.1, 7, Subset::kVal};
  auto val = FashionMnistDataset::Open(o);
  ASSERT_TRUE(val.ok());
  EXPECT_EQ((*val)->size(), 1000u);
  std::vector<int> val_per_class(10);
  for (std::size_t i = 0; i < (*val)->size(); ++i) val_per_class[(*val)->label(i)]++;
  for (int c = 0; c < 10; ++c) EXPECT_EQ(val_per_class[c], 100);
  o.split.subset = Subset::kTrain;
  auto train = FashionMnistDataset::Open(o);
  ASSERT_TRUE(train.ok());
  EXPECT_EQ((*train)->size(), 9000u);
}

}  // namespace
}  // namespace alexnet::data
