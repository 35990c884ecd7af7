// Helpers for the data tests: a temporary folder, byte-level file crafting, and an in-memory
// dataset whose loads can fail or be counted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "data/dataset.h"

namespace alexnet::data::testing {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& relative) const { return (path_ / relative).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<std::uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes);
// cv::imencode of a BGR(A)/grey Mat, e.g. ext ".png".
std::vector<std::uint8_t> encode(const cv::Mat& image, const std::string& ext,
                                 const std::vector<int>& params = {});
// gzip-compresses (RFC 1952) with zlib.
std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& data);
// Writes `rgb` (RGB order) as an image file in the format of the path's extension.
void write_rgb(const std::string& path, const cv::Mat& rgb, const std::vector<int>& params = {});

// Redirects file descriptor 2 (stderr, what libjpeg's default handler and SkipLog write to) to
// a temporary file from construction until finish(), which restores it and returns the text.
class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  std::string finish();

 private:
  int saved_fd_ = -1;
  std::FILE* file_ = nullptr;
};

// RGB8 image whose pixel (x, y) is (x mod 256, y mod 256, 7): crops and flips can be read back.
cv::Mat coordinate_image(int width, int height);
// RGB8 image with a non-trivial smooth pattern.
cv::Mat pattern_image(int width, int height, int seed = 0);

// Crafting: an EXIF APP1 segment with the orientation tag, inserted after a JPEG's SOI.
std::vector<std::uint8_t> with_exif_orientation(const std::vector<std::uint8_t>& jpeg,
                                                int orientation, bool big_endian);
// A PNG chunk (length, type, data, CRC) inserted right after IHDR.
std::vector<std::uint8_t> with_png_chunk(const std::vector<std::uint8_t>& png,
                                         const std::string& type,
                                         const std::vector<std::uint8_t>& data);
// A TIFF block (for EXIF) holding only the orientation tag.
std::vector<std::uint8_t> exif_tiff_block(int orientation, bool big_endian);

// Dataset in memory. Indices in `failing` fail to load; every load is counted; loads can be
// slowed down to test shutdown and back-pressure.
class MemoryDataset : public Dataset {
 public:
  MemoryDataset(std::vector<cv::Mat> images, std::vector<int> labels, int classes = 10);
  std::size_t size() const override { return images_.size(); }
  int label(std::size_t i) const override { return labels_[i]; }
  const std::vector<std::string>& class_names() const override { return names_; }
  Status LoadInto(std::size_t i, cv::Mat& rgb) const override;
  std::string name(std::size_t i) const override { return "memory#" + std::to_string(i); }
  std::string description() const override { return "memory dataset"; }

  std::set<std::size_t> failing;
  int delay_ms = 0;
  mutable std::atomic<std::int64_t> loads{0};

 private:
  std::vector<cv::Mat> images_;
  std::vector<int> labels_;
  std::vector<std::string> names_;
};

// n small distinct images (w x h) with labels i % classes.
std::shared_ptr<MemoryDataset> make_memory_dataset(int n, int width, int height, int classes = 4);

}  // namespace alexnet::data::testing
