// Reading an image's format, size and EXIF orientation from its header, without decoding.
//
// Why: OpenCV allocates the full pixel buffer from the header's declared size before it reads
// any pixel, so a 1 KB file claiming 100000 x 100000 pixels would ask for 30 GB. We read the
// size ourselves and refuse it before OpenCV sees the file. The same walk over the file's
// structure finds truncated JPEG/PNG/WebP/BMP/PNM files, which some decoders would otherwise
// "decode" with a grey or garbage bottom part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace alexnet::data {

enum class ImageFormat {
  kUnknown,  // not recognised here; OpenCV may still know it (its own size limit applies)
  kJpeg,
  kPng,
  kBmp,
  kWebp,
  kTiff,
  kPnm,  // PBM/PGM/PPM (P1-P6) and PAM (P7)
  kPfm,
  kSunRaster,
  kHdr,  // Radiance RGBE
  kExr,
  kJpeg2000,
};

const char* format_name(ImageFormat format);

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  // EXIF orientation 1..8 (1 = as stored) from JPEG APP1, PNG eXIf or WebP EXIF.
  int orientation = 1;
  // Non-empty when the header is invalid or the data visibly truncated; says why.
  std::string problem;
};

// Looks at the whole file's bytes (the structure walk needs them, e.g. to find a JPEG's end).
ImageHeader probe_image_header(const std::uint8_t* data, std::size_t size);

// The orientation tag (0x0112) of IFD0 of a TIFF-structured EXIF block; 1 when absent/invalid.
int exif_orientation(const std::uint8_t* tiff, std::size_t size);

}  // namespace alexnet::data
