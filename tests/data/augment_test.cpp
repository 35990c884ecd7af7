// Training augmentation: crop range and uniformity, flip rate, switches, reproducibility, and
// the statistics of the PCA colour shift.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "data/augment.h"
#include "data/ten_crop.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

// An orthonormal basis (a rotation of the RGB axes) and distinct eigenvalues.
ColorStats test_stats() {
  ColorStats s;
  const double a = 1 / std::sqrt(3.0), b = 1 / std::sqrt(2.0), c = 1 / std::sqrt(6.0);
  s.eigenvectors = {{{a, a, a}, {b, 0, -b}, {c, -2 * c, c}}};
  s.eigenvalues = {0.08, 0.02, 0.005};
  return s;
}

TEST(Augment, SameSeedEpochSampleGivesTheSameDraws) {
  const ColorStats stats = test_stats();
  const AugmentOptions o;
  const Augmentation a = DrawAugmentation(42, 3, 17, 256, 227, o, &stats);
  const Augmentation b = DrawAugmentation(42, 3, 17, 256, 227, o, &stats);
  EXPECT_EQ(a.crop, b.crop);
  EXPECT_EQ(a.color_shift, b.color_shift);
  int same = 0;
  for (int i = 0; i < 50; ++i) {
    const Augmentation d = DrawAugmentation(42, 4, i, 256, 227, o, &stats);
    const Augmentation e = DrawAugmentation(42, 3, i, 256, 227, o, &stats);
    same += d.crop == e.crop && d.alpha == e.alpha;
  }
  EXPECT_LT(same, 3);  // another epoch draws again
}

TEST(Augment, CropsCoverEveryPositionUniformlyAndFlipHalfTheTime) {
  const int S = 72, C = 64, N = 20000;
  std::map<int, int> xs, ys;
  int flips = 0;
  for (int i = 0; i < N; ++i) {
    const Augmentation a = DrawAugmentation(1, 0, i, S, C, {}, nullptr);
    ASSERT_GE(a.crop.x, 0);
    ASSERT_LE(a.crop.x, S - C);
    ASSERT_GE(a.crop.y, 0);
    ASSERT_LE(a.crop.y, S - C);
    xs[a.crop.x]++;
    ys[a.crop.y]++;
    flips += a.crop.flip;
  }
  ASSERT_EQ(xs.size(), static_cast<std::size_t>(S - C + 1));
  ASSERT_EQ(ys.size(), static_cast<std::size_t>(S - C + 1));
  for (const auto& [x, n] : xs) EXPECT_NEAR(n, N / 9.0, 0.1 * N / 9.0) << "x = " << x;
  EXPECT_NEAR(flips, N / 2.0, 0.02 * N);
}

TEST(Augment, EachAugmentationCanBeSwitchedOffIndependently) {
  const ColorStats stats = test_stats();
  AugmentOptions all;
  AugmentOptions no_crop = all, no_flip = all, no_pca = all;
  no_crop.random_crop = false;
  no_flip.flip = false;
  no_pca.pca_color = false;
  for (int i = 0; i < 200; ++i) {
    const Augmentation a = DrawAugmentation(5, 1, i, 256, 227, all, &stats);
    const Augmentation c = DrawAugmentation(5, 1, i, 256, 227, no_crop, &stats);
    const Augmentation f = DrawAugmentation(5, 1, i, 256, 227, no_flip, &stats);
    const Augmentation p = DrawAugmentation(5, 1, i, 256, 227, no_pca, &stats);
    EXPECT_EQ(c.crop.x, 14);
    EXPECT_EQ(c.crop.y, 14);
    EXPECT_EQ(c.crop.flip, a.crop.flip);
    EXPECT_FALSE(f.crop.flip);
    EXPECT_EQ(f.crop.x, a.crop.x);
    EXPECT_EQ(p.color_shift, (std::array<float, 3>{0, 0, 0}));
    EXPECT_EQ(p.crop, a.crop);
    EXPECT_EQ(c.color_shift, a.color_shift);
  }
}

TEST(Augment, PcaShiftFormula) {
  const ColorStats s = test_stats();
  const auto shift = PcaColorShift(s, {1.0f, 0.0f, 0.0f});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(shift[c], 255 * 0.08 / std::sqrt(3.0), 1e-4);
  const auto shift2 = PcaColorShift(s, {0.0f, 2.0f, 0.0f});
  EXPECT_NEAR(shift2[0], 255 * 2 * 0.02 / std::sqrt(2.0), 1e-4);
  EXPECT_NEAR(shift2[1], 0, 1e-6);
}

// alpha_i ~ N(0, 0.1) => the shift (in 0..1 units, shift / 255) has covariance
// sum_i 0.01 * lambda_i^2 * p_i p_i^T: variance 0.01 * lambda_i^2 along p_i, uncorrelated.
TEST(Augment, PcaShiftHasThePapersStatistics) {
  const ColorStats s = test_stats();
  const int N = 40000;
  double mean[3] = {0, 0, 0};
  double proj_sum[3] = {0, 0, 0}, proj_sq[3] = {0, 0, 0}, cross01 = 0, cross02 = 0;
  double alpha_sq = 0;
  for (int i = 0; i < N; ++i) {
    const Augmentation a = DrawAugmentation(9, 2, i, 256, 227, {}, &s);
    double v[3];
    for (int c = 0; c < 3; ++c) {
      v[c] = a.color_shift[c] / 255.0;
      mean[c] += v[c] / N;
    }
    double proj[3];
    for (int k = 0; k < 3; ++k) {
      proj[k] = v[0] * s.eigenvectors[k][0] + v[1] * s.eigenvectors[k][1] + v[2] * s.eigenvectors[k][2];
      proj_sum[k] += proj[k];
      proj_sq[k] += proj[k] * proj[k];
    }
    cross01 += proj[0] * proj[1];
    cross02 += proj[0] * proj[2];
    alpha_sq += a.alpha[0] * a.alpha[0];
  }
  EXPECT_NEAR(alpha_sq / N, 0.01, 0.0005);  // alpha std 0.1
  for (int k = 0; k < 3; ++k) {
    const double var = proj_sq[k] / N - (proj_sum[k] / N) * (proj_sum[k] / N);
    const double expected = 0.01 * s.eigenvalues[k] * s.eigenvalues[k];
    EXPECT_NEAR(var / expected, 1.0, 0.04) << "along p_" << k + 1;
    EXPECT_NEAR(mean[k], 0.0, 4 * std::sqrt(0.01 * 0.08 * 0.08 / N));
  }
  const double sd0 = 0.1 * s.eigenvalues[0], sd1 = 0.1 * s.eigenvalues[1], sd2 = 0.1 * s.eigenvalues[2];
  EXPECT_NEAR(cross01 / N / (sd0 * sd1), 0.0, 0.03);  // correlation ~ 0
  EXPECT_NEAR(cross02 / N / (sd0 * sd2), 0.0, 0.03);
}

TEST(Augment, PcaAlphaStdIsAnOption) {
  const ColorStats s = test_stats();
  AugmentOptions o;
  o.pca_alpha_std = 0.0f;
  EXPECT_EQ(DrawAugmentation(1, 1, 1, 256, 227, o, &s).color_shift, (std::array<float, 3>{0, 0, 0}));
}

TEST(TenCrop, Coordinates) {
  const auto specs = TenCropSpecs(256, 227);
  const std::array<CropSpec, 10> expected = {{{0, 0, false},
                                              {29, 0, false},
                                              {0, 29, false},
                                              {29, 29, false},
                                              {14, 14, false},
                                              {0, 0, true},
                                              {29, 0, true},
                                              {0, 29, true},
                                              {29, 29, true},
                                              {14, 14, true}}};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(specs[i], expected[i]) << "view " << i;
}

TEST(TenCrop, ViewsInTheBuffer) {
  const int S = 72, C = 64;
  const cv::Mat sq = coordinate_image(S, S);
  std::vector<float> out(10 * C * C * 3 + 1, -1.0f);
  WriteTenCrops(sq, C, Normalization{}, out.data());
  EXPECT_EQ(out.back(), -1.0f);
  const std::size_t view = C * C * 3;
  const auto specs = TenCropSpecs(S, C);
  for (int v = 0; v < 10; ++v) {
    const float* o = out.data() + v * view;
    const float first_x = static_cast<float>(specs[v].x + (specs[v].flip ? C - 1 : 0));
    EXPECT_EQ(o[0], first_x) << "view " << v;
    EXPECT_EQ(o[1], static_cast<float>(specs[v].y)) << "view " << v;
    const float* last = o + (C * C - 1) * 3;  // bottom-right output pixel
    EXPECT_EQ(last[0], static_cast<float>(specs[v].x + (specs[v].flip ? 0 : C - 1))) << "view " << v;
    EXPECT_EQ(last[1], static_cast<float>(specs[v].y + C - 1)) << "view " << v;
  }
}

}  // namespace
}  // namespace alexnet::data
