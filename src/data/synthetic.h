// Synthetic photo-like images and image folders, for benchmarks, tests and smoke runs without
// downloading a dataset. Content: a two-colour gradient, random ellipses, rectangles and lines,
// and sensor-like noise, so JPEG sizes and decode times resemble real photos. Each class has
// its own hue range, so a network can learn the classes.
#pragma once

#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "util/status.h"

namespace alexnet::data {

// RGB8, deterministic in (seed, label).
cv::Mat SyntheticPhoto(int width, int height, std::uint64_t seed, int label);

struct SyntheticFolderOptions {
  std::string root;  // created; root/class_XX/img_XXXXX<extension>
  int classes = 5;
  int images_per_class = 100;
  int width = 500;
  int height = 375;
  std::uint64_t seed = 0;
  std::string extension = ".jpg";  // any format cv::imwrite writes
  int jpeg_quality = 90;
};

Status WriteSyntheticImageFolder(const SyntheticFolderOptions& options);

}  // namespace alexnet::data
