// Decoding any image file OpenCV can read into 8-bit RGB with 3 channels.
//
//  - Formats: JPEG (baseline, progressive, CMYK), PNG (1-16 bit, grey, palette, alpha), BMP,
//    TIFF, WebP, Netpbm/PAM/PFM, Sun raster, Radiance HDR, OpenEXR, JPEG 2000 - whatever
//    Debian's OpenCV 4.6 imgcodecs reads.
//  - DICOM (through OpenCV's GDCM) is refused: GDCM aborts the process on a malformed file.
//  - Output: CV_8UC3 in RGB order (OpenCV decodes to BGR; we swap), EXIF orientation applied
//    (JPEG APP1, PNG eXIf, WebP EXIF).
//  - Grey is replicated to 3 channels; 16-bit is scaled by 255/65535 (rounded, so 65535 -> 255);
//    float images (HDR/EXR/PFM) are taken as nominal 0..1 and clipped; alpha is composited
//    over DecodeOptions::alpha_background (white by default, like a browser page).
//  - Size limit: the width and height are read from the header by us (image_header.h) for every
//    format listed above and an image above max_pixels is refused before any pixel memory is
//    allocated. For a format image_header.h does not parse, OpenCV's own limits refuse
//    it before allocating (OPENCV_IO_MAX_IMAGE_PIXELS, default 2^30; OPENCV_IO_MAX_IMAGE_WIDTH
//    and _HEIGHT, default 2^20) and max_pixels is checked right after decoding.
//    Why we still read headers ourselves: OpenCV 4.6 reads those variables in static
//    initialisers of libopencv_imgcodecs, i.e. when the library is loaded, before main(); a
//    setenv() from the program has no effect, so OpenCV's limit cannot follow max_pixels (which
//    is per dataset, DataSpec::max_pixels). They can only be lowered in the environment the
//    program is started with, and an image over them is reported as such.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/status.h"

namespace alexnet::data {

struct DecodeOptions {
  // Largest width * height accepted (default 64 megapixels, e.g. 9248 x 6936). Raise it for
  // panoramas or scans.
  std::uint64_t max_pixels = 64'000'000;
  // Largest file read into memory (bytes).
  std::uint64_t max_file_bytes = 1ULL << 30;
  bool apply_exif_orientation = true;
  std::array<std::uint8_t, 3> alpha_background = {255, 255, 255};  // RGB
};

// Reads and decodes one file into `rgb` (CV_8UC3, RGB; its storage is reused when the size
// matches). On failure `rgb` is unspecified and the Status names the path and the reason
// (missing, permission denied, directory, dangling symlink, empty, truncated, not an image,
// too large, ...). Thread-safe.
Status decode_image_file(const std::string& path, const DecodeOptions& options, cv::Mat& rgb);
Result<cv::Mat> decode_image_file(const std::string& path, const DecodeOptions& options = {});

// The same for bytes already in memory; `name` is used in error messages.
Status decode_image_bytes(const std::uint8_t* data, std::size_t size, const std::string& name,
                          const DecodeOptions& options, cv::Mat& rgb);

// Reads a whole file into `bytes` with the checks above (exists, regular file, not empty,
// readable, at most max_file_bytes).
Status read_file_bytes(const std::string& path, std::uint64_t max_bytes,
                       std::vector<std::uint8_t>& bytes);

// Converts what cv::imdecode(IMREAD_UNCHANGED) returns (BGR/BGRA/grey, any depth) to RGB8.
void to_rgb8(const cv::Mat& decoded, const std::array<std::uint8_t, 3>& alpha_background,
             cv::Mat& rgb);

// Rotates/flips `image` in place from EXIF orientation 1..8 to upright.
void apply_exif_orientation(int orientation, cv::Mat& image);

}  // namespace alexnet::data
