// Evaluation preprocessing, the paper's recipe with S and C as parameters:
//   shorter side resized to S -> central S x S square -> C x C crop -> minus the mean
//   -> float NHWC written straight into the caller's batch buffer.
//
// Pixel scale: outputs are 0..255 floats minus the mean (the paper's convention), RGB order.
#pragma once

#include <array>

#include <opencv2/core.hpp>

#include "data/color_stats.h"
#include "util/status.h"

namespace alexnet::data {

enum class MeanMode {
  kPerChannel,  // subtract ColorStats::mean_rgb (default)
  kPerPixel,    // subtract the paper's S x S x 3 mean image, cropped like the image
  kNone,        // subtract nothing (no ColorStats needed)
};

struct PreprocessOptions {
  int resize = 256;  // S: shorter side, then the central S x S square
  int crop = 227;    // C: the network's input side
  MeanMode mean = MeanMode::kPerChannel;
};

// 1 <= crop <= resize <= 4096.
Status CheckPreprocessOptions(const PreprocessOptions& options);

// A C x C window at (x, y) of the S x S square, optionally mirrored left-right.
struct CropSpec {
  int x = 0;
  int y = 0;
  bool flip = false;
};
bool operator==(const CropSpec& a, const CropSpec& b);

CropSpec CenterCrop(int size, int crop);

// What write_crop subtracts. Points into a ColorStats, which must outlive it.
struct Normalization {
  MeanMode mode = MeanMode::kNone;
  std::array<float, 3> mean_rgb{};
  const float* mean_image = nullptr;  // S * S * 3 when mode == kPerPixel
  int size = 0;                       // S of mean_image
};

// Checks that the stats fit the options (present unless kNone; mean image of side S for
// kPerPixel).
Result<Normalization> MakeNormalization(const ColorStats* stats, const PreprocessOptions& options);

// The S x S central square of `rgb` after resizing its shorter side to S. Computed as the
// central square of the original resized once (the same geometry, one resize instead of a
// resize plus a crop): area averaging (OpenCV's INTER_AREA weights, a faster separable
// implementation for RGB8; within 1 grey level of cv::resize) when shrinking, INTER_LINEAR when
// enlarging. Returns a view of
// `rgb` when no resize is needed, else `scratch` (which must not share memory with rgb).
cv::Mat CenterSquare(const cv::Mat& rgb, int size, cv::Mat& scratch);

// Writes the crop of the square (CV_8UC3, RGB, S x S; not checked: this is the inner loop) as
// C * C * 3 floats (HWC) to `out`:
// pixel - mean + color_shift. The per-pixel mean is taken at the source pixel, i.e. subtracted
// before mirroring, as the paper subtracts the mean image before cropping.
void WriteCrop(const cv::Mat& square, const CropSpec& crop, int crop_size,
                const Normalization& norm, const std::array<float, 3>& color_shift, float* out);

// The whole evaluation path for one decoded RGB8 image (CV_8UC3, any size): centre crop, no
// augmentation; writes C * C * 3 floats. Fails (without writing) if rgb is not CV_8UC3.
Status PreprocessEval(const cv::Mat& rgb, const PreprocessOptions& options,
                       const Normalization& norm, float* out);

// Not empty and CV_8UC3.
Status CheckRgb8(const cv::Mat& rgb);

}  // namespace alexnet::data
