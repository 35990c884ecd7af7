// Evaluation preprocessing: resize + central square, crop positions, mirroring, mean
// subtraction, output shapes and ranges.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "data/preprocess.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

Normalization no_mean() { return Normalization{}; }

TEST(Preprocess, CenterSquareShrinksWithAreaAndKeepsTheCentre) {
  const cv::Mat img = pattern_image(100, 50, 2);  // landscape: central 50 x 50 at x = 25
  cv::Mat scratch;
  const cv::Mat sq = CenterSquare(img, 25, scratch);
  ASSERT_EQ(sq.cols, 25);
  ASSERT_EQ(sq.rows, 25);
  cv::Mat expected;
  cv::resize(img(cv::Rect(25, 0, 50, 50)), expected, cv::Size(25, 25), 0, 0, cv::INTER_AREA);
  EXPECT_LE(cv::norm(sq, expected, cv::NORM_INF), 1);  // rounding of .5 may differ
}

TEST(Preprocess, AreaShrinkMatchesOpenCvInterArea) {
  cv::Mat noise(375, 500, CV_8UC3);
  cv::randu(noise, 0, 256);
  for (const int S : {256, 227, 100, 31, 374}) {
    cv::Mat scratch, expected;
    const cv::Mat sq = CenterSquare(noise, S, scratch);
    cv::resize(noise(cv::Rect(62, 0, 375, 375)), expected, cv::Size(S, S), 0, 0, cv::INTER_AREA);
    EXPECT_LE(cv::norm(sq, expected, cv::NORM_INF), 1) << "S = " << S;
    EXPECT_LT(cv::norm(sq, expected, cv::NORM_L1) / (S * S * 3.0), 0.05) << "S = " << S;
  }
}

TEST(Preprocess, CenterSquareEnlargesWithLinear) {
  const cv::Mat img = pattern_image(20, 30, 3);  // portrait: central 20 x 20 at y = 5
  cv::Mat scratch;
  const cv::Mat sq = CenterSquare(img, 40, scratch);
  cv::Mat expected;
  cv::resize(img(cv::Rect(0, 5, 20, 20)), expected, cv::Size(40, 40), 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(cv::norm(sq, expected, cv::NORM_INF), 0);
}

TEST(Preprocess, CenterSquareWithoutResizeIsTheCentralCrop) {
  const cv::Mat img = coordinate_image(90, 72);
  cv::Mat scratch;
  const cv::Mat sq = CenterSquare(img, 72, scratch);
  EXPECT_EQ(sq.at<cv::Vec3b>(0, 0), cv::Vec3b(9, 0, 7));  // x offset (90 - 72) / 2 = 9
}

TEST(Preprocess, CropPositionAndMirror) {
  const int S = 72, C = 64;
  const cv::Mat sq = coordinate_image(S, S);
  std::vector<float> out(C * C * 3);
  WriteCrop(sq, {5, 3, false}, C, no_mean(), {0, 0, 0}, out.data());
  // out[(r * C + c) * 3 + k]
  EXPECT_EQ(out[0], 5.0f);  // R = x of the source pixel
  EXPECT_EQ(out[1], 3.0f);  // G = y
  EXPECT_EQ(out[2], 7.0f);
  EXPECT_EQ(out[((10 * C) + 20) * 3 + 0], 25.0f);
  EXPECT_EQ(out[((10 * C) + 20) * 3 + 1], 13.0f);
  WriteCrop(sq, {5, 3, true}, C, no_mean(), {0, 0, 0}, out.data());
  EXPECT_EQ(out[0], 5.0f + C - 1);  // first output column = last source column
  EXPECT_EQ(out[1], 3.0f);
  EXPECT_EQ(out[((10 * C) + 20) * 3 + 0], 5.0f + C - 1 - 20);
  EXPECT_EQ(out[((10 * C) + C - 1) * 3 + 0], 5.0f);
}

TEST(Preprocess, MirrorIsExactlyAFlip) {
  const int S = 40, C = 32;
  const cv::Mat sq = pattern_image(S, S, 9);
  std::vector<float> a(C * C * 3), b(C * C * 3);
  WriteCrop(sq, {4, 6, false}, C, no_mean(), {1, 2, 3}, a.data());
  WriteCrop(sq, {4, 6, true}, C, no_mean(), {1, 2, 3}, b.data());
  for (int r = 0; r < C; ++r)
    for (int c = 0; c < C; ++c)
      for (int k = 0; k < 3; ++k)
        ASSERT_EQ(a[(r * C + c) * 3 + k], b[(r * C + (C - 1 - c)) * 3 + k]);
}

TEST(Preprocess, PerChannelMeanAndShift) {
  const cv::Mat sq(16, 16, CV_8UC3, cv::Scalar(100, 150, 200));
  Normalization n;
  n.mode = MeanMode::kPerChannel;
  n.mean_rgb = {10, 20, 30};
  std::vector<float> out(8 * 8 * 3);
  WriteCrop(sq, {2, 2, false}, 8, n, {0.5f, -1, 2}, out.data());
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(out[i * 3 + 0], 90.5f);
    EXPECT_EQ(out[i * 3 + 1], 129.0f);
    EXPECT_EQ(out[i * 3 + 2], 172.0f);
  }
}

TEST(Preprocess, PerPixelMeanIsTakenAtTheSourcePixel) {
  const int S = 12, C = 8;
  const cv::Mat sq = coordinate_image(S, S);
  ColorStats stats;
  stats.size = S;
  stats.mean_image.resize(S * S * 3);
  for (int y = 0; y < S; ++y)
    for (int x = 0; x < S; ++x)
      for (int k = 0; k < 3; ++k) stats.mean_image[(y * S + x) * 3 + k] = static_cast<float>(x);
  auto n = MakeNormalization(&stats, {S, C, MeanMode::kPerPixel});
  ASSERT_TRUE(n.ok()) << n.status().message();
  std::vector<float> out(C * C * 3);
  for (bool flip : {false, true}) {
    WriteCrop(sq, {3, 1, flip}, C, *n, {0, 0, 0}, out.data());
    for (int i = 0; i < C * C; ++i) ASSERT_EQ(out[i * 3], 0.0f);  // R = x minus mean x
    // G = y minus x of the source pixel: at output column 0 the source x is 3, or 3+C-1 mirrored.
    EXPECT_EQ(out[1], 1.0f - (flip ? 3 + C - 1 : 3));
  }
}

TEST(Preprocess, NormalizationChecksTheStatistics) {
  EXPECT_FALSE(MakeNormalization(nullptr, {72, 64, MeanMode::kPerChannel}).ok());
  EXPECT_TRUE(MakeNormalization(nullptr, {72, 64, MeanMode::kNone}).ok());
  ColorStats stats;
  stats.size = 256;
  stats.mean_image.assign(256 * 256 * 3, 0.0f);
  auto n = MakeNormalization(&stats, {72, 64, MeanMode::kPerPixel});
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().reason().find("72 x 72 x 3"), std::string::npos);
  EXPECT_FALSE(CheckPreprocessOptions({64, 72, MeanMode::kNone}).ok());
  EXPECT_FALSE(CheckPreprocessOptions({0, 0, MeanMode::kNone}).ok());
}

TEST(Preprocess, EvalShapeAndRangeForAnyImageSize) {
  const PreprocessOptions o{72, 64, MeanMode::kPerChannel};
  ColorStats stats;
  stats.mean_rgb = {120, 110, 100};
  auto n = MakeNormalization(&stats, o);
  ASSERT_TRUE(n.ok());
  for (const cv::Size size : {cv::Size(300, 200), cv::Size(50, 90), cv::Size(72, 72), cv::Size(1, 500)}) {
    const cv::Mat img = pattern_image(size.width, size.height, 4);
    std::vector<float> out(64 * 64 * 3 + 1, -1000.0f);
    ASSERT_TRUE(PreprocessEval(img, o, *n, out.data()).ok());
    EXPECT_EQ(out.back(), -1000.0f) << "wrote past C * C * 3 floats";
    for (int i = 0; i < 64 * 64 * 3; ++i) {
      const float mean = static_cast<float>(stats.mean_rgb[i % 3]);
      ASSERT_GE(out[i], -mean);
      ASSERT_LE(out[i], 255.0f - mean);
    }
  }
}

TEST(Preprocess, EvalRefusesWhatIsNotRgb8) {
  std::vector<float> out(64 * 64 * 3, -1.0f);
  const cv::Mat grey(80, 80, CV_8UC1, cv::Scalar(1));
  const Status st = PreprocessEval(grey, {72, 64, MeanMode::kNone}, Normalization{}, out.data());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.reason().find("CV_8UC3"), std::string::npos);
  EXPECT_FALSE(PreprocessEval(cv::Mat(), {72, 64, MeanMode::kNone}, Normalization{}, out.data()).ok());
  EXPECT_EQ(out[0], -1.0f);
}

TEST(Preprocess, CenterCropCoordinates) {
  EXPECT_EQ(CenterCrop(256, 227), (CropSpec{14, 14, false}));
  EXPECT_EQ(CenterCrop(72, 64), (CropSpec{4, 4, false}));
  EXPECT_EQ(CenterCrop(64, 64), (CropSpec{0, 0, false}));
}

}  // namespace
}  // namespace alexnet::data
