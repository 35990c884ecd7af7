// Each step of the Caffe mapping (src/caffe/mapping.h) against a plain computation of what it
// must preserve: a grouped convolution, a BGR image, Caffe's flattening, Caffe's LRN formula.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caffe.pb.h"
#include "caffe/mapping.h"
#include "caffe/mean_file.h"

namespace alexnet::caffe {
namespace {

Array Random(std::vector<int64_t> shape, unsigned seed) {
  Array a{std::move(shape), {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> n;
  a.values.resize(static_cast<std::size_t>(a.Count()));
  for (float& v : a.values) v = n(rng);
  return a;
}

// Caffe's convolution, as Caffe defines it: input C x H x W, weights O x C/groups x k x k,
// stride 1, no padding; output o sums over its group's input channels only.
std::vector<double> CaffeConv(const Array& x, const Array& w, int groups) {
  const int64_t C = x.shape[0], H = x.shape[1], W = x.shape[2], O = w.shape[0], Cg = w.shape[1], k = w.shape[2];
  const int64_t oh = H - k + 1, ow = W - k + 1;
  std::vector<double> y(static_cast<std::size_t>(O * oh * ow), 0.0);
  for (int64_t o = 0; o < O; ++o) {
    const int64_t g = o / (O / groups);
    for (int64_t i = 0; i < Cg; ++i) {
      for (int64_t r = 0; r < oh; ++r) {
        for (int64_t c = 0; c < ow; ++c) {
          for (int64_t dy = 0; dy < k; ++dy) {
            for (int64_t dx = 0; dx < k; ++dx) {
              y[static_cast<std::size_t>((o * oh + r) * ow + c)] +=
                  double(w.values[static_cast<std::size_t>(((o * Cg + i) * k + dy) * k + dx)]) *
                  x.values[static_cast<std::size_t>(((g * Cg + i) * H + r + dy) * W + c + dx)];
            }
          }
        }
      }
    }
  }
  (void)C;
  return y;
}

// TensorFlow's convolution for the same input in H x W x C and HWIO weights.
std::vector<double> HwioConv(const Array& x_chw, const Array& hwio) {
  const int64_t C = x_chw.shape[0], H = x_chw.shape[1], W = x_chw.shape[2];
  const int64_t k = hwio.shape[0], I = hwio.shape[2], O = hwio.shape[3];
  EXPECT_EQ(I, C);
  const int64_t oh = H - k + 1, ow = W - k + 1;
  std::vector<double> y(static_cast<std::size_t>(O * oh * ow), 0.0);  // stored O x oh x ow to compare
  for (int64_t o = 0; o < O; ++o) {
    for (int64_t r = 0; r < oh; ++r) {
      for (int64_t c = 0; c < ow; ++c) {
        double s = 0;
        for (int64_t dy = 0; dy < k; ++dy) {
          for (int64_t dx = 0; dx < k; ++dx) {
            for (int64_t i = 0; i < I; ++i) {
              s += double(hwio.values[static_cast<std::size_t>(((dy * k + dx) * I + i) * O + o)]) *
                   x_chw.values[static_cast<std::size_t>((i * H + r + dy) * W + c + dx)];
            }
          }
        }
        y[static_cast<std::size_t>((o * oh + r) * ow + c)] = s;
      }
    }
  }
  return y;
}

void ExpectNear(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-9 * (1 + std::abs(a[i]))) << "at " << i;
}

TEST(CaffeMapping, UngroupedWeightsAreBlockDiagonal) {
  // 4 outputs, 2 groups of 1 input channel, 1 x 1 kernels.
  const Array grouped{{4, 1, 1, 1}, {1, 2, 3, 4}};
  const Array one = UngroupConvolution(grouped, 2);
  EXPECT_EQ(one.shape, (std::vector<int64_t>{4, 2, 1, 1}));
  EXPECT_EQ(one.values, (std::vector<float>{1, 0, 2, 0, 0, 3, 0, 4}));
}

TEST(CaffeMapping, TwoTowersAsOneConvolutionComputeTheSame) {
  // conv2's form at a small size: 2 groups, 6 outputs, 4 input channels, 3 x 3.
  const Array x = Random({4, 7, 6}, 1), w = Random({6, 2, 3, 3}, 2);
  const Array one = UngroupConvolution(w, 2);
  ExpectNear(CaffeConv(x, w, 2), CaffeConv(x, one, 1));
  ExpectNear(CaffeConv(x, w, 2), HwioConv(x, OihwToHwio(one)));
}

TEST(CaffeMapping, ReversedInputChannelsSeeRgbAsCaffeSawBgr) {
  const Array bgr = Random({3, 6, 6}, 3), w = Random({5, 3, 3, 3}, 4);
  Array rgb = bgr;
  const std::size_t plane = 36;
  for (std::size_t c = 0; c < 3; ++c) {
    std::copy_n(&bgr.values[(2 - c) * plane], plane, &rgb.values[c * plane]);
  }
  ExpectNear(CaffeConv(bgr, w, 1), HwioConv(rgb, OihwToHwio(ReverseInputChannels(w))));
}

TEST(CaffeMapping, OihwToHwioMovesEveryElement) {
  const Array w = Random({3, 2, 4, 5}, 5);
  const Array t = OihwToHwio(w);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{4, 5, 2, 3}));
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 2; ++i)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 5; ++x)
          ASSERT_EQ(w.values[static_cast<std::size_t>(((o * 2 + i) * 4 + y) * 5 + x)],
                    t.values[static_cast<std::size_t>(((y * 5 + x) * 2 + i) * 3 + o)]);
}

TEST(CaffeMapping, TransposedFullyConnected) {
  const Array w{{2, 3}, {1, 2, 3, 4, 5, 6}};
  const Array t = TransposeFullyConnected(w);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.values, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(CaffeMapping, Fc6OnOurFlatteningEqualsCaffesOnItsOwn) {
  // pool5's form at a small size: 4 channels of 3 x 2, 5 outputs.
  const int C = 4, H = 3, W = 2;
  const Array x = Random({C, H, W}, 6), w = Random({5, C * H * W}, 7);
  const Array ours = FullyConnectedFromChw(w, C, H, W);
  ASSERT_EQ(ours.shape, (std::vector<int64_t>{C * H * W, 5}));
  for (int o = 0; o < 5; ++o) {
    double caffe = 0, tf = 0;
    for (int i = 0; i < C * H * W; ++i) caffe += double(w.values[static_cast<std::size_t>(o * C * H * W + i)]) * x.values[static_cast<std::size_t>(i)];
    for (int y = 0; y < H; ++y)
      for (int xx = 0; xx < W; ++xx)
        for (int c = 0; c < C; ++c) {
          const int hwc = (y * W + xx) * C + c;  // NHWC flattening
          tf += double(ours.values[static_cast<std::size_t>(hwc * 5 + o)]) * x.values[static_cast<std::size_t>((c * H + y) * W + xx)];
        }
    EXPECT_NEAR(caffe, tf, 1e-9);
  }
}

TEST(CaffeMapping, LrnConstantsGiveCaffesFormula) {
  const Result<model::LrnParams> p = LrnFromCaffe(5, 1e-4f, 0.75f, 1.0f);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->depth_radius, 2);
  EXPECT_FLOAT_EQ(p->alpha, 2e-5f);
  EXPECT_FLOAT_EQ(p->bias, 1.0f);
  EXPECT_FLOAT_EQ(p->beta, 0.75f);
  // One pixel of 9 channels through both formulas (Caffe: alpha / n; TensorFlow: alpha as given).
  const std::vector<double> a = {30, -12, 55, 8, 0, 71, -3, 40, 22};
  for (int c = 0; c < 9; ++c) {
    double sum = 0;
    for (int j = std::max(0, c - 2); j <= std::min(8, c + 2); ++j) sum += a[static_cast<std::size_t>(j)] * a[static_cast<std::size_t>(j)];
    const double caffe = a[static_cast<std::size_t>(c)] / std::pow(1.0 + 1e-4 / 5 * sum, 0.75);
    const double tf = a[static_cast<std::size_t>(c)] / std::pow(p->bias + double(p->alpha) * sum, p->beta);
    EXPECT_NEAR(caffe, tf, 1e-6 * std::abs(caffe) + 1e-9);
  }
  EXPECT_FALSE(LrnFromCaffe(4, 1e-4f, 0.75f, 1.0f).ok());
  EXPECT_FALSE(LrnFromCaffe(5, 1e-4f, 0.75f, 0.0f).ok());
}

TEST(CaffeMapping, Labels) {
  auto synsets = ParseLabels("n01440764 tench, Tinca tinca\r\nn01443537 goldfish, Carassius auratus\n\n", "w.txt");
  ASSERT_TRUE(synsets.ok());
  EXPECT_EQ(*synsets, (std::vector<std::string>{"tench, Tinca tinca", "goldfish, Carassius auratus"}));
  auto plain = ParseLabels("cat\ndog\nn0144076 seven digits stays\n", "p.txt");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, (std::vector<std::string>{"cat", "dog", "n0144076 seven digits stays"}));
  const Result<std::vector<std::string>> hole = ParseLabels("cat\n\ndog\n", "h.txt");
  ASSERT_FALSE(hole.ok());
  EXPECT_NE(hole.status().message().find("h.txt"), std::string::npos);
  EXPECT_NE(hole.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseLabels("\n\n", "e.txt").ok());
  EXPECT_FALSE(ParseLabels("", "e.txt").ok());
}

TEST(CaffeMapping, MeanImageBgrPlanesToRgbPixels) {
  // 1 x 2 image: B plane {1, 2}, G plane {3, 4}, R plane {5, 6}.
  EXPECT_EQ(MeanImageFromBgrChw({1, 2, 3, 4, 5, 6}, 1, 2), (std::vector<float>{5, 3, 1, 6, 4, 2}));
}

std::string MeanBlob(std::vector<int> nchw, int values, float fill) {
  alexnet_caffe::BlobProto b;
  b.set_num(nchw[0]);
  b.set_channels(nchw[1]);
  b.set_height(nchw[2]);
  b.set_width(nchw[3]);
  for (int i = 0; i < values; ++i) b.add_data(fill + static_cast<float>(i));
  return b.SerializeAsString();
}

TEST(CaffeMeanFile, LegacyShapeAndErrors) {
  const Result<CaffeMean> m = ParseMeanFile(MeanBlob({1, 3, 2, 2}, 12, 100), "mean.binaryproto");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->height, 2);
  EXPECT_EQ(m->width, 2);
  // pixel (0, 0): R = plane 2's first value (108), G = 104, B = 100.
  EXPECT_EQ(std::vector<float>(m->rgb_hwc.begin(), m->rgb_hwc.begin() + 3), (std::vector<float>{108, 104, 100}));
  for (const std::string& bad : {MeanBlob({1, 1, 2, 2}, 4, 0), MeanBlob({1, 3, 2, 2}, 11, 0), std::string("\xff\xff\xff", 3),
                                 MeanBlob({1, 3, 0, 2}, 0, 0), MeanBlob({1, 3, 1, 1}, 3, NAN)}) {
    const Result<CaffeMean> r = ParseMeanFile(bad, "bad.binaryproto");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("bad.binaryproto"), std::string::npos);
  }
}

}  // namespace
}  // namespace alexnet::caffe
