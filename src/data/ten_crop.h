// The paper's test-time views: the four corner crops and the centre crop of the S x S square,
// and their horizontal mirrors (10 views; the network's softmax is averaged over them).
#pragma once

#include <array>

#include <opencv2/core.hpp>

#include "data/preprocess.h"
#include "util/status.h"

namespace alexnet::data {

constexpr int kTenCrops = 10;

// Order: top-left, top-right, bottom-left, bottom-right, centre, then the same five mirrored.
std::array<CropSpec, kTenCrops> TenCropSpecs(int size, int crop);

// Writes the 10 views of an S x S square as 10 * C * C * 3 floats (NHWC) to `out`.
void WriteTenCrops(const cv::Mat& square, int crop, const Normalization& norm, float* out);

// From a decoded RGB8 image of any size (resize + central square first); fails (without
// writing) if rgb is not CV_8UC3.
Status PreprocessTenCrops(const cv::Mat& rgb, const PreprocessOptions& options,
                            const Normalization& norm, float* out);

}  // namespace alexnet::data
