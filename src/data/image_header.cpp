#include "data/image_header.h"

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace alexnet::data {
namespace {

using u8 = std::uint8_t;

std::uint32_t be16(const u8* p) { return (std::uint32_t(p[0]) << 8) | p[1]; }
std::uint32_t be32(const u8* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         p[3];
}
std::uint32_t le16(const u8* p) { return (std::uint32_t(p[1]) << 8) | p[0]; }
std::uint32_t le32(const u8* p) {
  return (std::uint32_t(p[3]) << 24) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[1]) << 8) |
         p[0];
}
std::uint64_t le64(const u8* p) { return (std::uint64_t(le32(p + 4)) << 32) | le32(p); }
std::uint64_t be64(const u8* p) { return (std::uint64_t(be32(p)) << 32) | be32(p + 4); }

bool StartsWith(const u8* d, std::size_t n, const char* magic, std::size_t m) {
  return n >= m && std::memcmp(d, magic, m) == 0;
}

std::string at(std::size_t offset) { return " at byte " + std::to_string(offset); }

// ---- TIFF structure (EXIF blocks, TIFF files) ----

struct TiffReader {
  const u8* d;
  bool little;
  std::uint32_t u16(std::size_t o) const { return little ? le16(d + o) : be16(d + o); }
  std::uint32_t u32(std::size_t o) const { return little ? le32(d + o) : be32(d + o); }
};

// ---- per-format probes ----

// IHDR's size, eXIf's orientation, and IEND: a PNG cut short has none.
void ProbePng(const u8* d, std::size_t n, ImageHeader& h) {
  std::size_t pos = 8;
  bool first = true;
  while (true) {
    if (n - pos < 12) {
      h.problem = first ? "truncated PNG header" : "truncated PNG (no IEND chunk; the file ends" +
                                                       at(n) + ")";
      return;
    }
    const std::uint64_t len = be32(d + pos);
    const u8* type = d + pos + 4;
    if (len > n - pos - 12) {
      h.problem = "truncated PNG (chunk '" + std::string(reinterpret_cast<const char*>(type), 4) +
                  "'" + at(pos) + " runs past the end of the " + std::to_string(n) +
                  "-byte file)";
      return;
    }
    const u8* body = d + pos + 8;
    if (first) {
      if (std::memcmp(type, "IHDR", 4) != 0 || len < 13) {
        h.problem = "corrupt PNG (first chunk is not IHDR)";
        return;
      }
      h.width = be32(body);
      h.height = be32(body + 4);
      first = false;
    } else if (std::memcmp(type, "eXIf", 4) == 0) {
      h.orientation = ExifOrientation(body, len);
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      return;
    }
    pos += 12 + len;
  }
}

// Truncation of uncompressed pixel data, which OpenCV reports only by printing to stderr
// (image_header.h); the size it needs is reported too.
void ProbeBmp(const u8* d, std::size_t n, ImageHeader& h) {
  if (n < 26) {
    h.problem = "truncated BMP header";
    return;
  }
  const std::uint32_t dib = le32(d + 14);
  std::int64_t w = 0, hh = 0;
  std::uint32_t bpp = 0, compression = 0;
  if (dib == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    w = le16(d + 18);
    hh = le16(d + 20);
    bpp = le16(d + 24);
  } else if (dib >= 16) {
    if (n < 34) {
      h.problem = "truncated BMP header";
      return;
    }
    w = static_cast<std::int32_t>(le32(d + 18));
    hh = static_cast<std::int32_t>(le32(d + 22));  // negative: rows stored top-down
    bpp = le16(d + 28);
    compression = le32(d + 30);
  } else {
    h.problem = "corrupt BMP header (DIB header size " + std::to_string(dib) + ")";
    return;
  }
  if (w <= 0 || hh == 0) {
    h.problem = "BMP declares a non-positive size";
    return;
  }
  h.width = static_cast<std::uint64_t>(w);
  h.height = static_cast<std::uint64_t>(std::llabs(hh));
  // Uncompressed (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS): the pixel bytes are known exactly.
  if (compression == 0 || compression == 3 || compression == 6) {
    const std::uint64_t offset = le32(d + 10);
    const std::uint64_t stride = (h.width * bpp + 31) / 32 * 4;
    const std::uint64_t need = offset + stride * h.height;
    if (bpp != 0 && h.height <= (1ULL << 31) && need > n) {
      h.problem = "truncated BMP (pixel data needs " + std::to_string(need) + " bytes, file has " +
                  std::to_string(n) + ")";
    }
  }
}

// No size: OpenCV's limit checks WebP's before decoding (image_header.h). The walk is for what
// OpenCV does not do: truncation, animation, EXIF orientation.
void ProbeWebp(const u8* d, std::size_t n, ImageHeader& h) {
  if (n < 30) {  // RIFF header and the first chunk's header and 10 bytes (all VP8X has)
    h.problem = "truncated WebP header";
    return;
  }
  const std::uint64_t riff_end = 8 + std::uint64_t(le32(d + 4));
  if (riff_end > n) {
    h.problem = "truncated WebP (RIFF header says " + std::to_string(riff_end) +
                " bytes, file has " + std::to_string(n) + ")";
    return;
  }
  // Only the extended format (VP8X, flags in its first byte) carries animation and EXIF.
  if (std::memcmp(d + 12, "VP8X", 4) != 0) return;
  if (d[20] & 0x02) {
    h.problem = "animated WebP, which OpenCV 4.6 cannot decode";
    return;
  }
  std::size_t pos = 12;
  // Not riff_end - pos >= 8: a last chunk of odd length is padded to one byte past riff_end,
  // the unsigned difference wrapped and the loop read past the buffer (found by fuzzing with
  // ASan, fuzz/fuzz_decode_image).
  while (pos + 8 <= riff_end) {
    const std::uint64_t len = le32(d + pos + 4);
    if (len > riff_end - pos - 8) break;
    if (std::memcmp(d + pos, "EXIF", 4) == 0) {
      const u8* e = d + pos + 8;
      std::size_t elen = len;
      if (elen >= 6 && std::memcmp(e, "Exif\0\0", 6) == 0) {  // some writers keep the prefix
        e += 6;
        elen -= 6;
      }
      h.orientation = ExifOrientation(e, elen);
    }
    pos += 8 + len + (len & 1);
  }
}

// No size: OpenCV's limit checks it. libtiff writes the first directory (IFD0) after the pixel
// data, so a file cut short has lost it; OpenCV then only fails, without saying why.
void ProbeTiff(const u8* d, std::size_t n, ImageHeader& h) {
  const bool big_tiff = d[2] == '+' || d[3] == '+';  // BigTIFF: 8-byte offset at byte 8
  if (n < (big_tiff ? 16u : 8u)) {
    h.problem = "truncated TIFF header";
    return;
  }
  const bool little = d[0] == 'I';
  const std::uint64_t ifd = big_tiff ? (little ? le64(d + 8) : be64(d + 8))
                                     : TiffReader{d, little}.u32(4);
  if (ifd >= n) {
    h.problem = "truncated TIFF (first directory" + at(ifd) + " is past the end of the " +
                std::to_string(n) + "-byte file)";
  }
}

// Skips whitespace and '#' comments of a Netpbm header from `pos`; reads one unsigned integer
// and moves `pos` past it. Nothing when there is no (sane) number there.
std::optional<std::uint64_t> PnmUint(const u8* d, std::size_t n, std::size_t& pos) {
  while (pos < n) {
    if (d[pos] == '#') {
      while (pos < n && d[pos] != '\n' && d[pos] != '\r') ++pos;
    } else if (d[pos] == ' ' || d[pos] == '\t' || d[pos] == '\n' || d[pos] == '\r' ||
               d[pos] == '\v' || d[pos] == '\f') {
      ++pos;
    } else {
      break;
    }
  }
  if (pos >= n || d[pos] < '0' || d[pos] > '9') return std::nullopt;
  std::uint64_t v = 0;
  while (pos < n && d[pos] >= '0' && d[pos] <= '9') {
    if (v > (1ULL << 40)) return std::nullopt;
    v = v * 10 + (d[pos++] - '0');
  }
  return v;
}

// P1-P6: the size, and truncation of the binary variants (P4-P6), which OpenCV reports only by
// printing to stderr (image_header.h). PAM (P7) is left to OpenCV, size limit included.
void ProbePnm(const u8* d, std::size_t n, ImageHeader& h) {
  const char kind = static_cast<char>(d[1]);
  if (kind == '7') return;
  std::size_t pos = 2;
  const auto width = PnmUint(d, n, pos);
  const auto height = width ? PnmUint(d, n, pos) : std::nullopt;
  const bool bitmap = kind == '1' || kind == '4';  // no maxval
  const auto max_value = !height ? std::nullopt : bitmap ? std::optional<std::uint64_t>(1) : PnmUint(d, n, pos);
  if (!max_value) {
    h.problem = "corrupt or truncated Netpbm header";
    return;
  }
  const std::uint64_t w = *width, hh = *height, maxval = *max_value;
  h.width = w;
  h.height = hh;
  // Binary variants have an exact size: one whitespace byte, then the samples.
  if ((kind == '4' || kind == '5' || kind == '6') && w > 0 && hh > 0 && w < (1ULL << 32) &&
      hh < (1ULL << 32)) {
    const std::uint64_t channels = kind == '6' ? 3 : 1;
    const std::uint64_t bytes = kind == '4' ? (w + 7) / 8 * hh
                                            : w * hh * channels * (maxval > 255 ? 2 : 1);
    if (pos + 1 + bytes > n) {
      h.problem = "truncated Netpbm file (pixels need " + std::to_string(bytes) +
                  " bytes after the header, file has " + std::to_string(n) + " in all)";
    }
  }
}

// PFM: "PF" (colour) or "Pf" (grey), a line break, then width, height and scale in ASCII. The
// size is read because OpenCV 4.6 decodes PFM from a temporary file, and a size it then refuses
// leaves that file in /tmp (image_header.h). Its reader takes each number as the bytes up to the
// next whitespace byte (atoi, no skipping), so "4  3" has height 0 for it: the same runs of bytes
// are read here, each must be decimal digits, and a header cut short is truncated.
void ProbePfm(const u8* d, std::size_t n, ImageHeader& h) {
  if (d[2] != '\n') {  // OpenCV's reader wants exactly this line break
    h.problem = std::string("corrupt PFM header (no line break after \"P") + static_cast<char>(d[1]) + "\")";
    return;
  }
  const auto space = [](u8 c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  const char* kNames[] = {"width", "height", "scale"};
  std::uint64_t size[2] = {0, 0};
  std::size_t pos = 3;
  for (int i = 0; i < 3; ++i) {
    const std::size_t start = pos;
    while (pos < n && !space(d[pos])) ++pos;
    if (pos >= n) {
      h.problem = "truncated PFM header (the file ends in its " + std::string(kNames[i]) + ")";
      return;
    }
    if (i < 2) {
      // At most 10 digits, which every size OpenCV can read (an int) has.
      bool digits = pos > start && pos - start <= 10;
      for (std::size_t k = start; digits && k < pos; ++k) {
        digits = d[k] >= '0' && d[k] <= '9';
        size[i] = size[i] * 10 + (d[k] - '0');
      }
      if (!digits) {
        h.problem = "corrupt PFM header (the " + std::string(kNames[i]) + at(start) +
                    " is not a number of 1 to 10 digits)";
        return;
      }
    }
    ++pos;  // the one whitespace byte after each number
  }
  h.width = size[0];
  h.height = size[1];
  // The pixels: 4-byte floats, 3 per pixel for "PF", 1 for "Pf". OpenCV reading a PFM cut short
  // prints "imdecode_('/tmp/__opencv_temp...'): can't read data" to stderr, without the file's
  // path, at every decode, before reporting nothing decoded.
  const std::uint64_t pixel_bytes = d[1] == 'F' ? 12 : 4;
  std::uint64_t need = 0;  // an empty image is refused by the caller
  if (size[0] != 0 && size[1] != 0) {
    need = size[0] > UINT64_MAX / pixel_bytes / size[1] ? UINT64_MAX : size[0] * size[1] * pixel_bytes;
  }
  if (n - pos < need) {
    h.problem = "truncated PFM (" + std::to_string(n - pos) + " of the " + std::to_string(need) +
                " bytes of pixels its header declares)";
  }
}

// Sun raster: a 32-byte big-endian header (magic, width, height, depth, length, type, colour map
// type and length). The size is read for the reason PFM's is: OpenCV 4.6 decodes it from a
// temporary file, which a size it refuses leaves in /tmp (image_header.h).
void ProbeSunRaster(const u8* d, std::size_t n, ImageHeader& h) {
  if (n < 32) {
    h.problem = "truncated Sun raster header (" + std::to_string(n) + " of 32 bytes)";
    return;
  }
  h.width = be32(d + 4);
  h.height = be32(d + 8);
}

// Radiance HDR: the size from the resolution line, read as OpenCV 4.6's RGBE_ReadHeader does
// (lines up to "FORMAT=32-bit_rle_rgbe", a blank line, then sscanf "-Y %d +X %d"; other
// orientations it refuses), for the reason PFM's is: OpenCV decodes it from a temporary file
// (image_header.h). A negative size (which %d accepts, and OpenCV then refuses) is refused here.
void ProbeHdr(const u8* d, std::size_t n, ImageHeader& h) {
  const std::string_view text(reinterpret_cast<const char*>(d), n);
  std::size_t pos = 0;
  const auto next_line = [&](std::string_view& line) {
    const std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) return false;
    line = text.substr(pos, end - pos);
    pos = end + 1;
    return true;
  };
  std::string_view line;
  const std::string truncated = "truncated Radiance HDR header (the file ends before its size line)";
  do {
    if (!next_line(line)) {
      h.problem = truncated;
      return;
    }
    if (line.empty()) {
      h.problem = "corrupt Radiance HDR header (no FORMAT=32-bit_rle_rgbe line before its blank line)";
      return;
    }
  } while (line != "FORMAT=32-bit_rle_rgbe");
  if (!next_line(line)) {
    h.problem = truncated;
    return;
  }
  if (!line.empty()) {
    h.problem = "corrupt Radiance HDR header (no blank line after FORMAT=32-bit_rle_rgbe)";
    return;
  }
  const std::size_t size_line = pos;
  if (!next_line(line)) {
    h.problem = truncated;
    return;
  }
  // sscanf's rules: a space in the format matches any run of white space (or none), %d skips
  // white space and takes an optional sign and digits.
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) != 0) ++i;
  };
  const auto literal = [&](const char* s) {
    for (; *s != 0; ++s, ++i) {
      if (i >= line.size() || line[i] != *s) return false;
    }
    return true;
  };
  const auto number = [&](std::uint64_t& value) {
    skip_space();
    bool negative = false;
    if (i < line.size() && (line[i] == '+' || line[i] == '-')) negative = line[i++] == '-';
    const std::size_t start = i;
    value = 0;
    while (i < line.size() && i - start < 11 && line[i] >= '0' && line[i] <= '9') {
      value = value * 10 + static_cast<std::uint64_t>(line[i++] - '0');
    }
    return !negative && i > start && i - start <= 10;
  };
  std::uint64_t size[2] = {0, 0};
  bool ok = literal("-Y") && number(size[0]);
  skip_space();
  ok = ok && literal("+X") && number(size[1]);
  if (!ok) {
    h.problem = "corrupt Radiance HDR header (the size line" + at(size_line) +
                " is not \"-Y <height> +X <width>\" with 1 to 10 digits each, the only orientation OpenCV reads)";
    return;
  }
  h.height = size[0];
  h.width = size[1];
}

// OpenEXR: the size from the first header's dataWindow (a box2i: xMin, yMin, xMax, yMax, little
// endian int32), as OpenCV 4.6 computes it (max - min + 1), for the reason PFM's is read: OpenCV
// decodes it from a temporary file (image_header.h). The attributes are name, type (each
// NUL-terminated), a 4-byte size and the value; an empty name ends the header.
void ProbeExr(const u8* d, std::size_t n, ImageHeader& h) {
  const auto c_string = [&](std::size_t& pos, std::string& s) {
    const void* nul = pos < n ? std::memchr(d + pos, 0, n - pos) : nullptr;
    if (nul == nullptr) return false;
    const std::size_t end = static_cast<std::size_t>(static_cast<const u8*>(nul) - d);
    s.assign(reinterpret_cast<const char*>(d + pos), end - pos);
    pos = end + 1;
    return true;
  };
  const std::string truncated = "truncated OpenEXR header (the file ends in its attributes)";
  std::size_t pos = 8;  // magic and version
  for (;;) {
    std::string name, type;
    if (!c_string(pos, name)) {
      h.problem = truncated;
      return;
    }
    if (name.empty()) break;
    if (!c_string(pos, type) || n - pos < 4) {
      h.problem = truncated;
      return;
    }
    const std::uint32_t size = le32(d + pos);
    pos += 4;
    if (size > n - pos) {
      h.problem = truncated;
      return;
    }
    if (name == "dataWindow") {
      if (type != "box2i" || size != 16) {
        h.problem = "corrupt OpenEXR header (its dataWindow" + at(pos - 4) + " is not a box2i of 16 bytes)";
        return;
      }
      const auto i32 = [&](std::size_t o) {
        return static_cast<std::int64_t>(static_cast<std::int32_t>(le32(d + pos + o)));
      };
      const std::int64_t width = i32(8) - i32(0) + 1, height = i32(12) - i32(4) + 1;
      if (width <= 0 || height <= 0) {
        h.problem = "OpenEXR header declares an empty image (dataWindow " + std::to_string(i32(0)) + "," +
                    std::to_string(i32(4)) + " to " + std::to_string(i32(8)) + "," + std::to_string(i32(12)) + ")";
        return;
      }
      h.width = static_cast<std::uint64_t>(width);
      h.height = static_cast<std::uint64_t>(height);
      return;
    }
    pos += size;
  }
  h.problem = "corrupt OpenEXR header (no dataWindow attribute)";
}

// Every format OpenCV reads, by its first bytes: only to name it in an error message.
ImageFormat SniffFormat(const u8* d, std::size_t n) {
  if (StartsWith(d, n, "\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (StartsWith(d, n, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::kPng;
  if (StartsWith(d, n, "BM", 2)) return ImageFormat::kBmp;
  if (n >= 12 && StartsWith(d, n, "RIFF", 4) && std::memcmp(d + 8, "WEBP", 4) == 0) return ImageFormat::kWebp;
  if (StartsWith(d, n, "II*\0", 4) || StartsWith(d, n, "MM\0*", 4) || StartsWith(d, n, "II+\0", 4) ||
      StartsWith(d, n, "MM\0+", 4)) {
    return ImageFormat::kTiff;
  }
  if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7' &&
      (d[2] == ' ' || d[2] == '\n' || d[2] == '\r' || d[2] == '\t')) {
    return ImageFormat::kPnm;
  }
  if (n >= 3 && d[0] == 'P' && (d[1] == 'F' || d[1] == 'f') && (d[2] == '\n' || d[2] == '\r' || d[2] == ' ')) {
    return ImageFormat::kPfm;
  }
  if (StartsWith(d, n, "\x59\xA6\x6A\x95", 4)) return ImageFormat::kSunRaster;
  if (StartsWith(d, n, "#?", 2)) return ImageFormat::kHdr;
  if (StartsWith(d, n, "\x76\x2F\x31\x01", 4)) return ImageFormat::kExr;
  if (StartsWith(d, n, "\x00\x00\x00\x0CjP  \r\n\x87\n", 12) || StartsWith(d, n, "\xFF\x4F\xFF\x51", 4)) {
    return ImageFormat::kJpeg2000;
  }
  return ImageFormat::kUnknown;
}

}  // namespace

const char* FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kPnm: return "Netpbm";
    case ImageFormat::kPfm: return "PFM";
    case ImageFormat::kSunRaster: return "Sun raster";
    case ImageFormat::kHdr: return "Radiance HDR";
    case ImageFormat::kExr: return "OpenEXR";
    case ImageFormat::kJpeg2000: return "JPEG 2000";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

int ExifOrientation(const std::uint8_t* tiff, std::size_t size) {
  if (size < 8 || !((tiff[0] == 'I' && tiff[1] == 'I') || (tiff[0] == 'M' && tiff[1] == 'M'))) {
    return 1;
  }
  // EXIF IFD0 rarely carries width/length, so only the orientation is taken from it.
  const TiffReader r{tiff, tiff[0] == 'I'};
  if (r.u16(2) != 42) return 1;
  const std::uint64_t ifd = r.u32(4);
  if (ifd > size || size - ifd < 2) return 1;
  const std::uint64_t entries = r.u16(ifd);
  if (entries > (size - ifd - 2) / 12) return 1;
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::size_t e = ifd + 2 + i * 12;
    if (r.u16(e) == 0x0112 && r.u16(e + 2) == 3) {
      const std::uint32_t v = r.u16(e + 8);
      return (v >= 1 && v <= 8) ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

ImageHeader ProbeImageHeader(const std::uint8_t* d, std::size_t n) {
  ImageHeader h;
  h.format = SniffFormat(d, n);
  switch (h.format) {
    case ImageFormat::kPng: ProbePng(d, n, h); break;
    case ImageFormat::kBmp: ProbeBmp(d, n, h); break;
    case ImageFormat::kWebp: ProbeWebp(d, n, h); break;
    case ImageFormat::kTiff: ProbeTiff(d, n, h); break;
    case ImageFormat::kPnm: ProbePnm(d, n, h); break;
    case ImageFormat::kPfm: ProbePfm(d, n, h); break;
    case ImageFormat::kSunRaster: ProbeSunRaster(d, n, h); break;
    case ImageFormat::kHdr: ProbeHdr(d, n, h); break;
    case ImageFormat::kExr: ProbeExr(d, n, h); break;
    default: break;  // JPEG: libjpeg reads it (jpeg_decode.h); the rest: OpenCV alone
  }
  const bool size_read = h.format == ImageFormat::kPng || h.format == ImageFormat::kBmp ||
                         (h.format == ImageFormat::kPnm && d[1] != '7') || h.format == ImageFormat::kPfm ||
                         h.format == ImageFormat::kSunRaster || h.format == ImageFormat::kHdr ||
                         h.format == ImageFormat::kExr;
  if (h.problem.empty() && size_read && (h.width == 0 || h.height == 0)) {
    h.problem = std::string(FormatName(h.format)) + " header declares an empty image (" +
                std::to_string(h.width) + " x " + std::to_string(h.height) + ")";
  }
  return h;
}

}  // namespace alexnet::data
