// Colour statistics: mean, covariance and its principal components, thread independence, and
// the JSON file a training run stores.
#include <gtest/gtest.h>

#include <cmath>

#include "data/color_stats.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

std::shared_ptr<MemoryDataset> constant_images(const std::vector<cv::Scalar>& colours, int size = 20) {
  std::vector<cv::Mat> images;
  std::vector<int> labels;
  for (const auto& c : colours) {
    images.emplace_back(size, size, CV_8UC3, c);
    labels.push_back(0);
  }
  return std::make_shared<MemoryDataset>(images, labels, 1);
}

TEST(ColorStats, BlackAndWhite) {
  auto ds = constant_images({cv::Scalar(0, 0, 0), cv::Scalar(255, 255, 255)});
  ColorStatsOptions o;
  o.size = 16;
  auto s = ComputeColorStats(*ds, o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->images, 2);
  EXPECT_EQ(s->size, 16);
  for (int c = 0; c < 3; ++c) EXPECT_DOUBLE_EQ(s->mean_rgb[c], 127.5);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(s->covariance[i][j], 0.25, 1e-12);
  // All variance along grey: lambda_1 = 0.75, p_1 = (1, 1, 1) / sqrt(3).
  EXPECT_NEAR(s->eigenvalues[0], 0.75, 1e-9);
  EXPECT_NEAR(s->eigenvalues[1], 0.0, 1e-9);
  EXPECT_NEAR(s->eigenvalues[2], 0.0, 1e-9);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(s->eigenvectors[0][c], 1 / std::sqrt(3.0), 1e-9);
  ASSERT_EQ(s->mean_image.size(), 16u * 16 * 3);
  EXPECT_FLOAT_EQ(s->mean_image[100], 127.5f);
}

TEST(ColorStats, PrincipalComponentsAreSortedOrthonormalEigenpairs) {
  auto ds = make_memory_dataset(12, 30, 24);
  ColorStatsOptions o;
  o.size = 24;
  auto s = ComputeColorStats(*ds, o);
  ASSERT_TRUE(s.ok());
  EXPECT_GE(s->eigenvalues[0], s->eigenvalues[1]);
  EXPECT_GE(s->eigenvalues[1], s->eigenvalues[2]);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double dot = 0;
      for (int c = 0; c < 3; ++c) dot += s->eigenvectors[i][c] * s->eigenvectors[j][c];
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-9);
    }
    for (int r = 0; r < 3; ++r) {  // cov p_i = lambda_i p_i
      double v = 0;
      for (int c = 0; c < 3; ++c) v += s->covariance[r][c] * s->eigenvectors[i][c];
      EXPECT_NEAR(v, s->eigenvalues[i] * s->eigenvectors[i][r], 1e-9);
    }
  }
}

TEST(ColorStats, ResultDoesNotDependOnThreads) {
  auto ds = make_memory_dataset(10, 40, 30);
  ColorStatsOptions o;
  o.size = 24;
  o.threads = 1;
  auto a = ComputeColorStats(*ds, o);
  o.threads = 3;
  auto b = ComputeColorStats(*ds, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->mean_rgb, b->mean_rgb);
  EXPECT_EQ(a->covariance, b->covariance);
  EXPECT_EQ(a->mean_image, b->mean_image);
}

TEST(ColorStats, SampleIsSeeded) {
  auto ds = make_memory_dataset(30, 16, 16);
  ColorStatsOptions o;
  o.size = 16;
  o.max_images = 7;
  o.seed = 3;
  auto a = ComputeColorStats(*ds, o);
  auto b = ComputeColorStats(*ds, o);
  o.seed = 4;
  auto c = ComputeColorStats(*ds, o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->images, 7);
  EXPECT_EQ(a->mean_rgb, b->mean_rgb);
  EXPECT_NE(a->mean_rgb, c->mean_rgb);
}

TEST(ColorStats, SkipsFilesThatFailToLoad) {
  auto ds = make_memory_dataset(6, 16, 16);
  ds->failing = {1, 4};
  ds->skip_log().SetPrint(false);
  ColorStatsOptions o;
  o.size = 16;
  auto s = ComputeColorStats(*ds, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->images, 4);
  EXPECT_EQ(ds->skip_log().count(), 2u);
}

TEST(ColorStats, JsonRoundTripIsExact) {
  auto ds = make_memory_dataset(5, 20, 20);
  ColorStatsOptions o;
  o.size = 12;
  auto s = ComputeColorStats(*ds, o);
  ASSERT_TRUE(s.ok());
  TempDir dir;
  const std::string path = dir.file("stats.json");
  ASSERT_TRUE(SaveColorStats(*s, path).ok());
  auto back = LoadColorStats(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->size, s->size);
  EXPECT_EQ(back->images, s->images);
  EXPECT_EQ(back->source, s->source);
  EXPECT_EQ(back->mean_rgb, s->mean_rgb);
  EXPECT_EQ(back->mean_image, s->mean_image);
  EXPECT_EQ(back->covariance, s->covariance);
  EXPECT_EQ(back->eigenvalues, s->eigenvalues);
  EXPECT_EQ(back->eigenvectors, s->eigenvectors);
}

TEST(ColorStats, BadFilesAreReportedWithThePath) {
  TempDir dir;
  auto r = LoadColorStats(dir.file("none.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().path(), dir.file("none.json"));

  const std::string junk = "{ not json";
  write_bytes(dir.file("junk.json"), std::vector<std::uint8_t>(junk.begin(), junk.end()));
  r = LoadColorStats(dir.file("junk.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "not valid JSON");

  ColorStats s;
  s.size = 4;
  nlohmann::json j = ColorStatsToJson(s);
  j["mean_image"] = std::vector<float>(5, 0.0f);
  auto bad = ColorStatsFromJson(j, "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().reason().find("expected size * size * 3 = 48"), std::string::npos);
  j.erase("mean_rgb");
  EXPECT_FALSE(ColorStatsFromJson(j, "x.json").ok());
  EXPECT_FALSE(ColorStatsFromJson(nlohmann::json::array(), "x.json").ok());
}

}  // namespace
}  // namespace alexnet::data
