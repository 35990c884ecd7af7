// A small learnable image-folder dataset the tests draw themselves: 4 classes of coloured
// shapes (red disc, green square, blue triangle, yellow cross) at random places and sizes on a
// noisy background, as JPEG and PNG files of assorted sizes.
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace alexnet::testing {

inline void WriteShapesDataset(const std::filesystem::path& root, int per_class, unsigned seed) {
  const char* names[] = {"cross", "disc", "square", "triangle"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> size_d(48, 96), noise(0, 60);
  for (int c = 0; c < 4; ++c) {
    std::filesystem::create_directories(root / names[c]);
    for (int i = 0; i < per_class; ++i) {
      const int w = size_d(rng) + 16, h = size_d(rng);
      cv::Mat img(h, w, CV_8UC3);
      cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(noise(rng) + 20));
      const int s = std::min(w, h);
      const int r = std::uniform_int_distribution<int>(s / 5, s / 3)(rng);
      const cv::Point ctr(std::uniform_int_distribution<int>(r, w - r)(rng),
                          std::uniform_int_distribution<int>(r, h - r)(rng));
      // BGR colours: cross yellow, disc red, square green, triangle blue.
      switch (c) {
        case 0:
          cv::line(img, ctr - cv::Point(r, 0), ctr + cv::Point(r, 0), cv::Scalar(0, 220, 230), std::max(2, r / 3));
          cv::line(img, ctr - cv::Point(0, r), ctr + cv::Point(0, r), cv::Scalar(0, 220, 230), std::max(2, r / 3));
          break;
        case 1:
          cv::circle(img, ctr, r, cv::Scalar(30, 30, 220), cv::FILLED);
          break;
        case 2:
          cv::rectangle(img, ctr - cv::Point(r, r), ctr + cv::Point(r, r), cv::Scalar(40, 200, 40), cv::FILLED);
          break;
        default: {
          std::vector<cv::Point> tri = {ctr + cv::Point(0, -r), ctr + cv::Point(-r, r), ctr + cv::Point(r, r)};
          cv::fillConvexPoly(img, tri, cv::Scalar(220, 60, 20));
        }
      }
      const std::string ext = i % 2 ? ".png" : ".jpg";
      cv::imwrite((root / names[c] / (std::to_string(i) + ext)).string(), img);
    }
  }
}

}  // namespace alexnet::testing
