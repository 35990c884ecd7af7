// Decoding any image file OpenCV can read into 8-bit RGB with 3 channels.
//
//  - Formats: JPEG (baseline, progressive, CMYK; read by libjpeg directly, see jpeg_decode.h),
//    PNG (1-16 bit, grey, palette, alpha), BMP,
//    TIFF, WebP, Netpbm/PAM/PFM, Sun raster, Radiance HDR, OpenEXR, JPEG 2000 - whatever
//    Debian's OpenCV 4.6 imgcodecs reads.
//  - DICOM (through OpenCV's GDCM) is refused: GDCM aborts the process on a malformed file.
//  - Output: CV_8UC3 in RGB order (OpenCV decodes to BGR; we swap), EXIF orientation applied
//    (JPEG APP1, PNG eXIf, WebP EXIF), which OpenCV does not do with IMREAD_UNCHANGED.
//  - Grey is replicated to 3 channels (Sun raster is decoded as colour: OpenCV 4.6 reads its
//    8-bit grey as black when asked for one channel); 16-bit is scaled by 255/65535 (rounded, so 65535 -> 255);
//    float images (HDR/EXR/PFM) are taken as nominal 0..1 and clipped; alpha is composited
//    over DecodeOptions::alpha_background (white by default, like a browser page).
//  - Size limit: every image above max_pixels is refused, and never allocated first:
//      JPEG: libjpeg reads the header (jpeg_decode.h) and an image above max_pixels is refused
//        before decompression ("JPEG header declares W x H = N pixels, above the limit"). As
//        OpenCV never sees it, it is also held to OpenCV's limits below.
//      PNG, BMP, Netpbm P1-P6: the size is read from the header by us (image_header.h, which
//        reads these headers anyway for what OpenCV cannot do: truncation, EXIF) and refused
//        the same way before decoding.
//      PFM, Sun raster, HDR, EXR: the same; OpenCV decodes them from a temporary file in /tmp, which its
//        own refusal of a size would leave behind (image_header.h). These and the formats above
//        are held to OpenCV's limits below by us as well, before OpenCV sees them.
//      Every other format (WebP, TIFF, PAM, JPEG 2000): OpenCV
//        refuses a header above its own limits before allocating (OPENCV_IO_MAX_IMAGE_PIXELS,
//        default 2^30; OPENCV_IO_MAX_IMAGE_WIDTH and _HEIGHT, default 2^20), reported as "...
//        OpenCV's decode limit of N (...; refused before decoding)"; max_pixels is checked again
//        right after decoding.
//    OpenCV 4.6 reads those variables in static initialisers of libopencv_imgcodecs, when the
//    library is loaded, before main(); a setenv() in the program changes nothing. The alexnet
//    program therefore sets OPENCV_IO_MAX_IMAGE_PIXELS to kDefaultMaxPixels (decode_limits.h)
//    unless it is set, before OpenCV loads (src/cli/start_environment.h). OpenCV's limit thus
//    follows the environment, not a dataset's max_pixels (DataSpec::max_pixels): to accept
//    larger WebP/TIFF/... images, raise OPENCV_IO_MAX_IMAGE_PIXELS too. Other programs linking
//    this library get OpenCV's default unless their environment sets it (tests and fuzz
//    targets that need it start themselves again with it set).
//  - Damaged JPEG: a JPEG that libjpeg decodes with corrupt-data warnings ("Corrupt JPEG data:
//    premature end of data segment", ...) is damaged but usable: by default it is decoded and
//    the warnings are returned in DecodeWarnings (never printed here; ImageFolderDataset reports
//    them once per file through its SkipLog); with DecodeOptions::strict_jpeg it is refused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/decode_limits.h"
#include "util/status.h"

namespace alexnet::data {

struct DecodeOptions {
  // Largest width * height accepted (default 64 megapixels, e.g. 9248 x 6936). Raise it for
  // panoramas or scans (and OPENCV_IO_MAX_IMAGE_PIXELS for the formats OpenCV checks, above).
  std::uint64_t max_pixels = kDefaultMaxPixels;
  // Largest file read into memory (bytes).
  std::uint64_t max_file_bytes = 1ULL << 30;
  bool apply_exif_orientation = true;
  std::array<std::uint8_t, 3> alpha_background = {255, 255, 255};  // RGB
  // Refuse a JPEG that decodes only with libjpeg's corrupt-data warnings (an error naming the
  // warnings) instead of using it.
  bool strict_jpeg = false;
};

// What decoding noticed in a file it could still decode: libjpeg's corrupt-data warnings
// (JWRN_*) for a damaged JPEG, whose damaged part decodes grey or garbled.
struct DecodeWarnings {
  std::vector<std::string> messages;  // distinct texts in the order met (the first few)
  long count = 0;                     // every warning, repeats included
  bool any() const { return count > 0; }
  // "damaged JPEG (Corrupt JPEG data: premature end of data segment)"; "" when none.
  std::string summary() const;
};

// Reads and decodes one file into `rgb` (CV_8UC3, RGB; its storage is reused when the size
// matches). On failure `rgb` is unspecified and the Status names the path and the reason
// (missing, permission denied, directory, dangling symlink, empty, truncated, not an image,
// too large, damaged under strict_jpeg, ...). Warnings about a damaged file that was decoded
// anyway go to `warnings` when given (cleared first), and are dropped otherwise. Thread-safe.
Status DecodeImageFile(const std::string& path, const DecodeOptions& options, cv::Mat& rgb,
                         DecodeWarnings* warnings = nullptr);
Result<cv::Mat> DecodeImageFile(const std::string& path, const DecodeOptions& options = {});

// The same for bytes already in memory; `name` is used in error messages.
Status DecodeImageBytes(const std::uint8_t* data, std::size_t size, const std::string& name,
                          const DecodeOptions& options, cv::Mat& rgb,
                          DecodeWarnings* warnings = nullptr);

// Reads a whole file into `bytes` with the checks above (exists, regular file, not empty,
// readable, at most max_file_bytes).
Status ReadFileBytes(const std::string& path, std::uint64_t max_bytes,
                       std::vector<std::uint8_t>& bytes);

// Converts what cv::imdecode(IMREAD_UNCHANGED) returns (BGR/BGRA/grey, any depth) to RGB8.
void ToRgb8(const cv::Mat& decoded, const std::array<std::uint8_t, 3>& alpha_background,
             cv::Mat& rgb);

// Rotates/flips `image` in place from EXIF orientation 1..8 to upright.
void ApplyExifOrientation(int orientation, cv::Mat& image);

}  // namespace alexnet::data
