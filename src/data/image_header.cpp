#include "data/image_header.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace alexnet::data {
namespace {

using u8 = std::uint8_t;

std::uint32_t be16(const u8* p) { return (std::uint32_t(p[0]) << 8) | p[1]; }
std::uint32_t be32(const u8* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         p[3];
}
std::uint32_t le16(const u8* p) { return (std::uint32_t(p[1]) << 8) | p[0]; }
std::uint32_t le24(const u8* p) {
  return (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[1]) << 8) | p[0];
}
std::uint32_t le32(const u8* p) {
  return (std::uint32_t(p[3]) << 24) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[1]) << 8) |
         p[0];
}
std::uint64_t le64(const u8* p) { return (std::uint64_t(le32(p + 4)) << 32) | le32(p); }
std::uint64_t be64(const u8* p) { return (std::uint64_t(be32(p)) << 32) | be32(p + 4); }

bool starts_with(const u8* d, std::size_t n, const char* magic, std::size_t m) {
  return n >= m && std::memcmp(d, magic, m) == 0;
}

std::string at(std::size_t offset) { return " at byte " + std::to_string(offset); }

// ---- TIFF structure (TIFF files and EXIF blocks) ----

struct TiffReader {
  const u8* d;
  std::size_t n;
  bool little;
  bool big;  // BigTIFF: 8-byte offsets and counts
  std::uint32_t u16(std::size_t o) const { return little ? le16(d + o) : be16(d + o); }
  std::uint32_t u32(std::size_t o) const { return little ? le32(d + o) : be32(d + o); }
  std::uint64_t u64(std::size_t o) const { return little ? le64(d + o) : be64(d + o); }
};

struct TiffIfd0 {
  bool ok = false;
  std::string problem;
  std::uint64_t width = 0, height = 0;
  int orientation = 1;
};

// Reads IFD0's ImageWidth (256), ImageLength (257) and Orientation (274).
TiffIfd0 read_tiff_ifd0(const u8* d, std::size_t n) {
  TiffIfd0 out;
  if (n < 8) {
    out.problem = "truncated TIFF header";
    return out;
  }
  TiffReader r{d, n, d[0] == 'I', false};
  const std::uint32_t version = r.u16(2);
  std::uint64_t ifd = 0;
  if (version == 42) {
    ifd = r.u32(4);
  } else if (version == 43) {
    if (n < 16 || r.u16(4) != 8) {
      out.problem = "invalid BigTIFF header";
      return out;
    }
    r.big = true;
    ifd = r.u64(8);
  } else {
    out.problem = "invalid TIFF version " + std::to_string(version);
    return out;
  }
  const std::size_t count_size = r.big ? 8 : 2;
  const std::size_t entry_size = r.big ? 20 : 12;
  if (ifd < 8 || ifd > n || n - ifd < count_size) {
    out.problem = "truncated TIFF (first directory" + at(ifd) + " is past the end of the " +
                  std::to_string(n) + "-byte file)";
    return out;
  }
  const std::uint64_t entries = r.big ? r.u64(ifd) : r.u16(ifd);
  if (entries > (n - ifd - count_size) / entry_size) {
    out.problem = "truncated TIFF (directory" + at(ifd) + " runs past the end of the file)";
    return out;
  }
  bool have_w = false, have_h = false;
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::size_t e = ifd + count_size + i * entry_size;
    const std::uint32_t tag = r.u16(e), type = r.u16(e + 2);
    const std::size_t value = e + (r.big ? 12 : 8);
    // SHORT (3) values sit in the first 2 bytes of the value field, LONG (4) in 4, LONG8 (16) in 8.
    std::uint64_t v = 0;
    if (type == 3) v = r.u16(value);
    else if (type == 4) v = r.u32(value);
    else if (type == 16 && r.big) v = r.u64(value);
    else continue;
    if (tag == 256) { out.width = v; have_w = true; }
    if (tag == 257) { out.height = v; have_h = true; }
    if (tag == 274) out.orientation = (v >= 1 && v <= 8) ? static_cast<int>(v) : 1;
  }
  if (!have_w || !have_h) {
    out.problem = "TIFF directory has no image width/length";
    return out;
  }
  out.ok = true;
  return out;
}

// ---- per-format probes ----

void probe_jpeg(const u8* d, std::size_t n, ImageHeader& h) {
  std::size_t pos = 2;
  bool have_sof = false;
  std::size_t scan_start = 0;
  while (true) {
    if (pos >= n) {
      h.problem = have_sof ? "truncated JPEG (no image data)" : "truncated JPEG header";
      return;
    }
    if (d[pos] != 0xFF) {
      h.problem = "corrupt JPEG header (no marker" + at(pos) + ")";
      return;
    }
    while (pos < n && d[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) {
      h.problem = "truncated JPEG header";
      return;
    }
    const u8 marker = d[pos++];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9) {
      h.problem = "JPEG ends before any image data";
      return;
    }
    if (n - pos < 2) {
      h.problem = "truncated JPEG header";
      return;
    }
    const std::size_t len = be16(d + pos);
    if (len < 2) {
      h.problem = "corrupt JPEG header (segment length " + std::to_string(len) + at(pos) + ")";
      return;
    }
    if (n - pos < len) {
      h.problem = "truncated JPEG (segment" + at(pos - 2) + " runs past the end of the file)";
      return;
    }
    const u8* seg = d + pos + 2;
    const std::size_t seg_len = len - 2;
    const bool is_sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                        marker != 0xCC;
    if (is_sof && !have_sof) {
      if (seg_len < 5) {
        h.problem = "corrupt JPEG frame header";
        return;
      }
      h.height = be16(seg + 1);
      h.width = be16(seg + 3);
      have_sof = true;
    } else if (marker == 0xE1 && seg_len >= 6 && std::memcmp(seg, "Exif\0\0", 6) == 0 &&
               h.orientation == 1) {
      h.orientation = exif_orientation(seg + 6, seg_len - 6);
    } else if (marker == 0xDA) {
      scan_start = pos + len;
      break;
    }
    pos += len;
  }
  if (!have_sof) {
    h.problem = "corrupt JPEG (image data before any frame header)";
    return;
  }
  if (h.height == 0) {
    // The height would come from a DNL marker, which libjpeg does not support.
    h.problem = "JPEG declares height 0 (DNL marker), not supported";
    return;
  }
  // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an FF D9
  // after the first scan can only be the end-of-image marker. No EOI: the file was cut short.
  for (std::size_t i = n - 1; i > scan_start; --i) {
    if (d[i] == 0xD9 && d[i - 1] == 0xFF) return;
  }
  h.problem = "truncated JPEG (no end-of-image marker; " + std::to_string(n) + " bytes)";
}

void probe_png(const u8* d, std::size_t n, ImageHeader& h) {
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
      h.orientation = exif_orientation(body, len);
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      return;
    }
    pos += 12 + len;
  }
}

void probe_bmp(const u8* d, std::size_t n, ImageHeader& h) {
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

void probe_webp(const u8* d, std::size_t n, ImageHeader& h) {
  if (n < 30) {
    h.problem = "truncated WebP header";
    return;
  }
  const std::uint64_t riff_end = 8 + std::uint64_t(le32(d + 4));
  if (riff_end > n) {
    h.problem = "truncated WebP (RIFF header says " + std::to_string(riff_end) +
                " bytes, file has " + std::to_string(n) + ")";
    return;
  }
  const u8* c = d + 12;
  const u8* body = c + 8;
  if (std::memcmp(c, "VP8 ", 4) == 0) {  // lossy: frame tag, start code 9d 01 2a, 14-bit sizes
    if (body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a) {
      h.problem = "corrupt WebP (bad VP8 start code)";
      return;
    }
    h.width = le16(body + 6) & 0x3fff;
    h.height = le16(body + 8) & 0x3fff;
  } else if (std::memcmp(c, "VP8L", 4) == 0) {  // lossless: signature 0x2f, 14-bit sizes - 1
    if (body[0] != 0x2f) {
      h.problem = "corrupt WebP (bad VP8L signature)";
      return;
    }
    const std::uint32_t bits = le32(body + 1);
    h.width = (bits & 0x3fff) + 1;
    h.height = ((bits >> 14) & 0x3fff) + 1;
  } else if (std::memcmp(c, "VP8X", 4) == 0) {  // extended: 24-bit canvas sizes - 1, then chunks
    h.width = le24(body + 4) + 1;
    h.height = le24(body + 7) + 1;
    if (body[0] & 0x02) {
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
        h.orientation = exif_orientation(e, elen);
      }
      pos += 8 + len + (len & 1);
    }
  } else {
    h.problem = "corrupt WebP (unknown first chunk)";
  }
}

void probe_tiff(const u8* d, std::size_t n, ImageHeader& h) {
  const TiffIfd0 ifd = read_tiff_ifd0(d, n);
  if (!ifd.ok) {
    h.problem = ifd.problem;
    return;
  }
  h.width = ifd.width;
  h.height = ifd.height;
  // The orientation tag of a TIFF file is not applied: OpenCV 4.6's TIFF reader ignores it and
  // camera orientation lives in JPEG EXIF. Reported as 1 so decode() does not rotate.
}

// Skips whitespace and '#' comments of a Netpbm header from `pos`; reads one unsigned integer
// and moves `pos` past it. Nothing when there is no (sane) number there.
std::optional<std::uint64_t> pnm_uint(const u8* d, std::size_t n, std::size_t& pos) {
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

void probe_pnm(const u8* d, std::size_t n, ImageHeader& h) {
  const char kind = static_cast<char>(d[1]);
  std::size_t pos = 2;
  if (kind == '7') {  // PAM: "WIDTH w" / "HEIGHT h" lines up to ENDHDR
    const std::string text(reinterpret_cast<const char*>(d), std::min<std::size_t>(n, 4096));
    const auto wpos = text.find("WIDTH"), hpos = text.find("HEIGHT");
    if (wpos == std::string::npos || hpos == std::string::npos) {
      h.problem = "corrupt PAM header (no WIDTH/HEIGHT)";
      return;
    }
    std::size_t wp = wpos + 5, hp = hpos + 6;
    const auto w = pnm_uint(d, n, wp);
    const auto hh = pnm_uint(d, n, hp);
    if (!w || !hh) {
      h.problem = "corrupt PAM header";
      return;
    }
    h.width = *w;
    h.height = *hh;
    return;
  }
  const auto width = pnm_uint(d, n, pos);
  const auto height = width ? pnm_uint(d, n, pos) : std::nullopt;
  const bool bitmap = kind == '1' || kind == '4';  // no maxval
  const auto max_value = !height ? std::nullopt : bitmap ? std::optional<std::uint64_t>(1) : pnm_uint(d, n, pos);
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

void probe_pfm(const u8* d, std::size_t n, ImageHeader& h) {
  std::size_t pos = 2;
  const auto w = pnm_uint(d, n, pos);
  const auto hh = w ? pnm_uint(d, n, pos) : std::nullopt;
  if (!hh) {
    h.problem = "corrupt PFM header";
    return;
  }
  h.width = *w;
  h.height = *hh;
}

void probe_hdr(const u8* d, std::size_t n, ImageHeader& h) {
  // Header lines end with an empty line; the next line is e.g. "-Y 480 +X 640".
  const std::string text(reinterpret_cast<const char*>(d), std::min<std::size_t>(n, 65536));
  const auto blank = text.find("\n\n");
  if (blank == std::string::npos) {
    h.problem = "corrupt or truncated Radiance HDR header";
    return;
  }
  char s1 = 0, a1 = 0, s2 = 0, a2 = 0;
  unsigned long long v1 = 0, v2 = 0;
  if (std::sscanf(text.c_str() + blank + 2, "%c%c %llu %c%c %llu", &s1, &a1, &v1, &s2, &a2, &v2) !=
      6) {
    h.problem = "corrupt Radiance HDR resolution line";
    return;
  }
  h.height = a1 == 'Y' ? v1 : v2;
  h.width = a1 == 'Y' ? v2 : v1;
}

void probe_exr(const u8* d, std::size_t n, ImageHeader& h) {
  // Attributes: name\0 type\0 size(le32) value; the header ends with an empty name.
  std::size_t pos = 8;
  while (pos < n && d[pos] != 0) {
    const u8* name = d + pos;
    const u8* name_end = static_cast<const u8*>(std::memchr(name, 0, n - pos));
    if (!name_end) break;
    const std::size_t tpos = static_cast<std::size_t>(name_end - d) + 1;
    const u8* type_end = tpos < n ? static_cast<const u8*>(std::memchr(d + tpos, 0, n - tpos))
                                  : nullptr;
    if (!type_end) break;
    const std::size_t spos = static_cast<std::size_t>(type_end - d) + 1;
    if (n - spos < 4) break;
    const std::uint64_t size = le32(d + spos);
    if (size > n - spos - 4) break;
    if (std::strcmp(reinterpret_cast<const char*>(name), "dataWindow") == 0 && size >= 16) {
      const u8* v = d + spos + 4;
      const std::int64_t x0 = static_cast<std::int32_t>(le32(v));
      const std::int64_t y0 = static_cast<std::int32_t>(le32(v + 4));
      const std::int64_t x1 = static_cast<std::int32_t>(le32(v + 8));
      const std::int64_t y1 = static_cast<std::int32_t>(le32(v + 12));
      if (x1 < x0 || y1 < y0) {
        h.problem = "OpenEXR data window is empty";
        return;
      }
      h.width = static_cast<std::uint64_t>(x1 - x0 + 1);
      h.height = static_cast<std::uint64_t>(y1 - y0 + 1);
      return;
    }
    pos = spos + 4 + size;
  }
  h.problem = "corrupt or truncated OpenEXR header (no dataWindow)";
}

void probe_jpeg2000(const u8* d, std::size_t n, ImageHeader& h) {
  if (d[0] == 0xFF) {  // raw codestream: SOC, then SIZ with Xsiz, Ysiz, XOsiz, YOsiz
    if (n < 24) {
      h.problem = "truncated JPEG 2000 codestream";
      return;
    }
    const std::uint64_t xs = be32(d + 8), ys = be32(d + 12), xo = be32(d + 16), yo = be32(d + 20);
    if (xs <= xo || ys <= yo) {
      h.problem = "corrupt JPEG 2000 size";
      return;
    }
    h.width = xs - xo;
    h.height = ys - yo;
    return;
  }
  // JP2 boxes: len(4) type(4) [xl-len(8)]; the jp2h superbox holds ihdr: height(4) width(4).
  std::size_t pos = 0, end = n;
  while (end - pos >= 8) {
    std::uint64_t len = be32(d + pos);
    std::size_t header = 8;
    if (len == 1) {
      if (end - pos < 16) break;
      len = be64(d + pos + 8);
      header = 16;
    } else if (len == 0) {
      len = end - pos;
    }
    if (len < header || len > end - pos) break;
    if (std::memcmp(d + pos + 4, "jp2h", 4) == 0) {
      end = pos + len;
      pos += header;
      continue;
    }
    if (std::memcmp(d + pos + 4, "ihdr", 4) == 0 && len >= header + 8) {
      h.height = be32(d + pos + header);
      h.width = be32(d + pos + header + 4);
      return;
    }
    pos += len;
  }
  h.problem = "corrupt or truncated JP2 (no image header box)";
}

}  // namespace

const char* format_name(ImageFormat format) {
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

int exif_orientation(const std::uint8_t* tiff, std::size_t size) {
  if (size < 8 || !((tiff[0] == 'I' && tiff[1] == 'I') || (tiff[0] == 'M' && tiff[1] == 'M'))) {
    return 1;
  }
  // EXIF IFD0 rarely carries width/length, so only the orientation is taken from it.
  TiffReader r{tiff, size, tiff[0] == 'I', false};
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

ImageHeader probe_image_header(const std::uint8_t* d, std::size_t n) {
  ImageHeader h;
  if (starts_with(d, n, "\xFF\xD8\xFF", 3)) {
    h.format = ImageFormat::kJpeg;
    probe_jpeg(d, n, h);
  } else if (starts_with(d, n, "\x89PNG\r\n\x1a\n", 8)) {
    h.format = ImageFormat::kPng;
    probe_png(d, n, h);
  } else if (starts_with(d, n, "BM", 2)) {
    h.format = ImageFormat::kBmp;
    probe_bmp(d, n, h);
  } else if (n >= 12 && starts_with(d, n, "RIFF", 4) && std::memcmp(d + 8, "WEBP", 4) == 0) {
    h.format = ImageFormat::kWebp;
    probe_webp(d, n, h);
  } else if (starts_with(d, n, "II*\0", 4) || starts_with(d, n, "MM\0*", 4) ||
             starts_with(d, n, "II+\0", 4) || starts_with(d, n, "MM\0+", 4)) {
    h.format = ImageFormat::kTiff;
    probe_tiff(d, n, h);
  } else if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7' &&
             (d[2] == ' ' || d[2] == '\n' || d[2] == '\r' || d[2] == '\t')) {
    h.format = ImageFormat::kPnm;
    probe_pnm(d, n, h);
  } else if (n >= 3 && d[0] == 'P' && (d[1] == 'F' || d[1] == 'f') &&
             (d[2] == '\n' || d[2] == '\r' || d[2] == ' ')) {
    h.format = ImageFormat::kPfm;
    probe_pfm(d, n, h);
  } else if (starts_with(d, n, "\x59\xA6\x6A\x95", 4)) {
    h.format = ImageFormat::kSunRaster;
    if (n < 32) {
      h.problem = "truncated Sun raster header";
    } else {
      h.width = be32(d + 4);
      h.height = be32(d + 8);
    }
  } else if (starts_with(d, n, "#?", 2)) {
    h.format = ImageFormat::kHdr;
    probe_hdr(d, n, h);
  } else if (starts_with(d, n, "\x76\x2F\x31\x01", 4)) {
    h.format = ImageFormat::kExr;
    probe_exr(d, n, h);
  } else if (starts_with(d, n, "\x00\x00\x00\x0CjP  \r\n\x87\n", 12) ||
             starts_with(d, n, "\xFF\x4F\xFF\x51", 4)) {
    h.format = ImageFormat::kJpeg2000;
    probe_jpeg2000(d, n, h);
  }
  if (h.problem.empty() && h.format != ImageFormat::kUnknown && (h.width == 0 || h.height == 0)) {
    h.problem = std::string(format_name(h.format)) + " header declares an empty image (" +
                std::to_string(h.width) + " x " + std::to_string(h.height) + ")";
  }
  return h;
}

}  // namespace alexnet::data
