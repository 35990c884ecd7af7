#include "data/ten_crop.h"

#include <cstddef>

namespace alexnet::data {

std::array<CropSpec, kTenCrops> TenCropSpecs(int size, int crop) {
  const int far = size - crop;
  const CropSpec centre = CenterCrop(size, crop);
  std::array<CropSpec, kTenCrops> specs = {{{0, 0, false},
                                            {far, 0, false},
                                            {0, far, false},
                                            {far, far, false},
                                            centre}};
  for (int i = 0; i < 5; ++i) specs[5 + i] = {specs[i].x, specs[i].y, true};
  return specs;
}

void WriteTenCrops(const cv::Mat& square, int crop, const Normalization& norm, float* out) {
  const std::size_t view = static_cast<std::size_t>(crop) * crop * 3;
  const auto specs = TenCropSpecs(square.cols, crop);
  for (int i = 0; i < kTenCrops; ++i) WriteCrop(square, specs[i], crop, norm, {0, 0, 0}, out + i * view);
}

Status PreprocessTenCrops(const cv::Mat& rgb, const PreprocessOptions& options,
                            const Normalization& norm, float* out) {
  ALEXNET_RETURN_IF_ERROR(CheckRgb8(rgb));
  ALEXNET_RETURN_IF_ERROR(CheckPreprocessOptions(options));
  cv::Mat scratch;
  WriteTenCrops(CenterSquare(rgb, options.resize, scratch), options.crop, norm, out);
  return Status::Ok();
}

}  // namespace alexnet::data
