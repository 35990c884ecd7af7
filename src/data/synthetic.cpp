#include "data/synthetic.h"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/random.h"

namespace alexnet::data {

cv::Mat SyntheticPhoto(int width, int height, std::uint64_t seed, int label) {
  Rng rng(DeriveSeed(seed, 0x5e7, static_cast<std::uint64_t>(label)));
  auto colour = [&](double hue_lo, double hue_hi) {  // a random colour of a hue range, as RGB
    cv::Mat hsv(1, 1, CV_8UC3,
                cv::Scalar(hue_lo + rng.Uniform() * (hue_hi - hue_lo), 80 + rng.Below(176),
                           60 + rng.Below(196)));
    cv::Mat rgb;
    cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
    const auto p = rgb.at<cv::Vec3b>(0, 0);
    return cv::Scalar(p[0], p[1], p[2]);
  };
  const double hue0 = (label * 37) % 180;  // OpenCV hue is 0..179
  const cv::Scalar a = colour(hue0, hue0 + 20), b = colour(0, 180);

  cv::Mat img(height, width, CV_8UC3);
  const bool vertical = rng.Uniform() < 0.5;
  for (int y = 0; y < height; ++y) {
    auto* row = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      const double t = vertical ? double(y) / height : double(x) / width;
      for (int c = 0; c < 3; ++c) row[x][c] = cv::saturate_cast<uchar>(a[c] * (1 - t) + b[c] * t);
    }
  }
  const int shapes = 4 + static_cast<int>(rng.Below(8));
  for (int s = 0; s < shapes; ++s) {
    const cv::Point centre(static_cast<int>(rng.Below(width)), static_cast<int>(rng.Below(height)));
    const int r = 5 + static_cast<int>(rng.Below(std::max(1, std::min(width, height) / 3)));
    const cv::Scalar c = s % 2 ? colour(hue0, hue0 + 20) : colour(0, 180);
    switch (rng.Below(3)) {
      case 0:
        cv::ellipse(img, centre, cv::Size(r, r / 2 + 1), rng.Uniform() * 180, 0, 360, c, cv::FILLED,
                    cv::LINE_AA);
        break;
      case 1:
        cv::rectangle(img, cv::Rect(centre.x, centre.y, r, r / 2 + 1), c, cv::FILLED);
        break;
      default:
        cv::line(img, centre, cv::Point(static_cast<int>(rng.Below(width)),
                                        static_cast<int>(rng.Below(height))),
                 c, 1 + static_cast<int>(rng.Below(6)), cv::LINE_AA);
    }
  }
  cv::GaussianBlur(img, img, cv::Size(3, 3), 0);
  // Texture at two scales (foliage, fabric, gravel) and sensor noise: real photos carry this
  // detail, and it is what makes their JPEGs large and slow to decode.
  cv::RNG cv_rng(rng.Next());
  cv::Mat coarse(std::max(1, height / 6), std::max(1, width / 6), CV_16SC3), texture, fine;
  cv_rng.fill(coarse, cv::RNG::NORMAL, 0, 16);
  cv::resize(coarse, texture, img.size(), 0, 0, cv::INTER_CUBIC);
  fine.create(height, width, CV_16SC3);
  cv_rng.fill(fine, cv::RNG::NORMAL, 0, 11);
  cv::Mat img16;
  img.convertTo(img16, CV_16SC3);
  img16 += texture + fine;
  img16.convertTo(img, CV_8UC3);
  return img;
}

Status WriteSyntheticImageFolder(const SyntheticFolderOptions& o) {
  namespace fs = std::filesystem;
  if (o.classes < 1 || o.images_per_class < 1 || o.width < 1 || o.height < 1) {
    return Status::BadInput(o.root, "synthetic folder: classes, images, width, height must be >= 1");
  }
  const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality};
  for (int c = 0; c < o.classes; ++c) {
    char name[32];
    std::snprintf(name, sizeof(name), "class_%02d", c);
    const fs::path dir = fs::path(o.root) / name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::Io(dir.string(), "cannot create folder: " + ec.message());
    for (int i = 0; i < o.images_per_class; ++i) {
      char file[32];
      std::snprintf(file, sizeof(file), "img_%05d", i);
      const std::string path = (dir / (file + o.extension)).string();
      cv::Mat bgr;
      cv::cvtColor(SyntheticPhoto(o.width, o.height, DeriveSeed(o.seed, static_cast<std::uint64_t>(i)), c),
                   bgr, cv::COLOR_RGB2BGR);
      try {
        if (!cv::imwrite(path, bgr, params)) return Status::Io(path, "cannot write image");
      } catch (const std::exception& e) {
        return Status::Io(path, std::string("cannot write image: ") + e.what());
      }
    }
  }
  return Status::Ok();
}

}  // namespace alexnet::data
