#include "data/ten_crop.h"

#include <cstddef>

namespace alexnet::data {

std::array<CropSpec, kTenCrops> ten_crop_specs(int size, int crop) {
  const int far = size - crop;
  const CropSpec centre = center_crop(size, crop);
  std::array<CropSpec, kTenCrops> specs = {{{0, 0, false},
                                            {far, 0, false},
                                            {0, far, false},
                                            {far, far, false},
                                            centre}};
  for (int i = 0; i < 5; ++i) specs[5 + i] = {specs[i].x, specs[i].y, true};
  return specs;
}

void write_ten_crops(const cv::Mat& square, int crop, const Normalization& norm, float* out) {
  const std::size_t view = static_cast<std::size_t>(crop) * crop * 3;
  const auto specs = ten_crop_specs(square.cols, crop);
  for (int i = 0; i < kTenCrops; ++i) write_crop(square, specs[i], crop, norm, {0, 0, 0}, out + i * view);
}

Status preprocess_ten_crops(const cv::Mat& rgb, const PreprocessOptions& options,
                            const Normalization& norm, float* out) {
  ALEXNET_RETURN_IF_ERROR(check_rgb8(rgb));
  ALEXNET_RETURN_IF_ERROR(check_preprocess_options(options));
  cv::Mat scratch;
  write_ten_crops(center_square(rgb, options.resize, scratch), options.crop, norm, out);
  return Status::Ok();
}

}  // namespace alexnet::data
