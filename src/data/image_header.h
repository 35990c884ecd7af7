// What we read from an image's bytes before decoding: its format, and for the formats where
// OpenCV cannot do it, the declared size, truncation and EXIF orientation.
//
// The split:
//  - OpenCV refuses an image whose header declares more than OPENCV_IO_MAX_IMAGE_PIXELS (or
//    _WIDTH, _HEIGHT) before it allocates anything; the alexnet program sets that limit to
//    kDefaultMaxPixels at start-up (src/cli/start_environment.h). For WebP, TIFF, PAM and
//    JPEG 2000 that is the only check before decoding, so their width and height are not read
//    here (reported as 0).
//  - JPEG is decoded by libjpeg ourselves (jpeg_decode.h), which reads its header (size, EXIF
//    orientation) and checks its truncation there: only its format is recognised here.
//  - What OpenCV 4.6 cannot do is read here:
//      PNG:  the size from IHDR (to refuse above DecodeOptions::max_pixels before allocating,
//            naming the size, as for JPEG); truncation (no IEND); EXIF orientation from eXIf.
//      WebP: truncation (RIFF size past the end of the file), animation (OpenCV 4.6 cannot
//            decode it) and EXIF orientation from the VP8X EXIF chunk.
//      BMP, binary Netpbm (P4-P6): truncation. OpenCV reports a truncated BMP or Netpbm file
//            by printing "imdecode_(''): can't read data: ... Unexpected end of input stream" to
//            stderr, without the file's path, at every decode (every epoch); the check needs the
//            size, so it is read (and held to max_pixels) too.
//      TIFF: truncation (the first directory, which libtiff writes after the pixels, lies past
//            the end of the file), so the error says "truncated" rather than only "corrupt".
//      PFM, Sun raster, Radiance HDR, OpenEXR: the size (PFM's ASCII width and height after
//            "PF\n" or "Pf\n"; Sun raster's from its 32-byte big-endian header; HDR's from its
//            "-Y <height> +X <width>" line; EXR's from its dataWindow), to refuse 0 or more than max_pixels or
//            OpenCV's limits before cv::imdecode runs. OpenCV 4.6 cannot decode these from memory:
//            imdecode writes the bytes to a temporary file /tmp/__opencv_temp.XXXXXX, reads the
//            header from it, and its size check then throws past the file's removal, so each
//            such file would stay in /tmp (one per bad file per epoch). A header too short or
//            unparsable is refused here too, and a PFM whose pixels are cut short (OpenCV
//            prints a line naming its temporary file for it, at every decode).
//    OpenCV applies no EXIF orientation with IMREAD_UNCHANGED (which keeps 16-bit depth and
//    alpha), so decode() applies the one read here or by jpeg_decode.h.
//  - The format of every other file OpenCV reads is recognised from its first bytes only, to
//    name it in an error ("corrupt or unsupported OpenEXR data" rather than "not an image").
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

const char* FormatName(ImageFormat format);

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  // The declared size for PNG, BMP, Netpbm P1-P6, PFM, Sun raster, Radiance HDR and OpenEXR; 0 x 0 for the others
  // (JPEG's is read by libjpeg, jpeg_decode.h; the rest only OpenCV's limit checks before decoding).
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  // EXIF orientation 1..8 (1 = as stored) from PNG eXIf or WebP EXIF (JPEG's: jpeg_decode.h).
  int orientation = 1;
  // Non-empty when the header is invalid or the data visibly truncated; says why.
  std::string problem;
};

// Looks at the whole file's bytes (the structure walk needs them, e.g. to find a PNG's IEND).
ImageHeader ProbeImageHeader(const std::uint8_t* data, std::size_t size);

// The orientation tag (0x0112) of IFD0 of a TIFF-structured EXIF block; 1 when absent/invalid.
// Also used for JPEG's APP1 (jpeg_decode.cpp).
int ExifOrientation(const std::uint8_t* tiff, std::size_t size);

}  // namespace alexnet::data
