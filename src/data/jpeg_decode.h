// Decoding JPEG with libjpeg(-turbo) directly, the same library and settings as OpenCV 4.6's
// JPEG decoder (libjpeg.so.62 on Debian), so the pixels are identical to cv::imdecode's.
//
// Why not cv::imdecode: OpenCV keeps libjpeg's default message handler, which prints warnings
// such as "Corrupt JPEG data: premature end of data segment" to stderr without the file's path,
// and again every time the file is decoded (every epoch). Here libjpeg's errors become a Status
// naming the file and its warnings are collected for the caller (decode.h, DecodeWarnings),
// nothing is printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <opencv2/core.hpp>

#include "data/decode.h"
#include "util/status.h"

namespace alexnet::data {

// What libjpeg reads before any pixel memory is allocated.
struct JpegHeader {
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  int orientation = 1;  // EXIF orientation 1..8 from the first APP1 "Exif" segment (1 = as stored)
};

// Decides from the header whether to go on (the size limits, decode.cpp): a failed Status stops.
using JpegHeaderCheck = std::function<Status(const JpegHeader&)>;

// Decodes a JPEG into `rgb` (CV_8UC3, RGB order; no EXIF orientation, the caller applies it).
// libjpeg reads the header first and `check` sees it before anything image-sized is allocated.
// A file cut short is refused as truncated, because libjpeg would decode it with a grey bottom
// and only a warning: the end came inside the header, or there is no end-of-image marker after
// the first scan. Greyscale is replicated to 3 channels; CMYK/YCCK (Adobe, inverted) is
// converted as OpenCV does. libjpeg's corrupt-data warnings go to `warnings` (cleared first).
// Fails with `name` and libjpeg's reason when libjpeg gives up. Thread-safe.
Status DecodeJpeg(const std::uint8_t* data, std::size_t size, const std::string& name,
                   const JpegHeaderCheck& check, cv::Mat& rgb, DecodeWarnings& warnings);

}  // namespace alexnet::data
