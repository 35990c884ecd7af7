// Decoding every format Debian's OpenCV reads into RGB8, and EXIF orientation.
#include <gtest/gtest.h>

#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#ifdef ALEXNET_TEST_HAVE_LIBJPEG
#include <cstdio>
#include <jpeglib.h>
#endif

#include "data/decode.h"
#include "data/image_header.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

// Left half red, right half blue, as RGB.
cv::Mat red_blue(int w = 64, int h = 48) {
  cv::Mat m(h, w, CV_8UC3, cv::Scalar(255, 0, 0));
  m(cv::Rect(w / 2, 0, w - w / 2, h)).setTo(cv::Scalar(0, 0, 255));
  return m;
}

void expect_rgb8(const cv::Mat& m, int w, int h) {
  EXPECT_EQ(m.type(), CV_8UC3);
  EXPECT_EQ(m.cols, w);
  EXPECT_EQ(m.rows, h);
}

// The formats whose declared size image_header.h reads (JPEG's: libjpeg; the others: OpenCV's
// limit, decode.h).
bool size_is_read(const std::vector<std::uint8_t>& bytes, ImageFormat format) {
  return format == ImageFormat::kPng || format == ImageFormat::kBmp || format == ImageFormat::kPfm ||
         format == ImageFormat::kSunRaster || format == ImageFormat::kHdr || format == ImageFormat::kExr ||
         (format == ImageFormat::kPnm && bytes[1] != '7');
}

// The image decoded from `bytes` as RGB8, with a header probe that recognises the format and,
// where it reads the size, agrees on it.
cv::Mat decode_bytes(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  cv::Mat rgb;
  const Status st = DecodeImageBytes(bytes.data(), bytes.size(), what, {}, rgb);
  EXPECT_TRUE(st.ok()) << st.message();
  const ImageHeader h = ProbeImageHeader(bytes.data(), bytes.size());
  EXPECT_NE(h.format, ImageFormat::kUnknown) << what;
  EXPECT_EQ(h.problem, "") << what;
  const bool turned = h.orientation >= 5;  // EXIF orientations 5-8 swap width and height
  const bool read = size_is_read(bytes, h.format);
  EXPECT_EQ(h.width, read ? static_cast<std::uint64_t>(turned ? rgb.rows : rgb.cols) : 0u) << what;
  EXPECT_EQ(h.height, read ? static_cast<std::uint64_t>(turned ? rgb.cols : rgb.rows) : 0u) << what;
  return rgb;
}

void expect_red_blue(const cv::Mat& rgb, int tolerance, const std::string& what) {
  const cv::Vec3b left = rgb.at<cv::Vec3b>(rgb.rows / 2, 4);
  const cv::Vec3b right = rgb.at<cv::Vec3b>(rgb.rows / 2, rgb.cols - 5);
  EXPECT_NEAR(left[0], 255, tolerance) << what;  // R of the red half: RGB order, not BGR
  EXPECT_NEAR(left[2], 0, tolerance) << what;
  EXPECT_NEAR(right[0], 0, tolerance) << what;
  EXPECT_NEAR(right[2], 255, tolerance) << what;
}

cv::Mat to_bgr(const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

TEST(Decode, JpegBaselineAndProgressive) {
  for (int progressive : {0, 1}) {
    const auto bytes = encode(to_bgr(red_blue()), ".jpg",
                              {cv::IMWRITE_JPEG_QUALITY, 95, cv::IMWRITE_JPEG_PROGRESSIVE, progressive});
    const cv::Mat rgb = decode_bytes(bytes, progressive ? "progressive" : "baseline");
    expect_rgb8(rgb, 64, 48);
    expect_red_blue(rgb, 12, "jpeg");
  }
}

TEST(Decode, JpegGreyBecomesThreeEqualChannels) {
  const cv::Mat grey(30, 40, CV_8UC1, cv::Scalar(90));
  const cv::Mat rgb = decode_bytes(encode(grey, ".jpg"), "grey jpeg");
  expect_rgb8(rgb, 40, 30);
  const cv::Vec3b p = rgb.at<cv::Vec3b>(10, 10);
  EXPECT_EQ(p[0], p[1]);
  EXPECT_EQ(p[1], p[2]);
  EXPECT_NEAR(p[0], 90, 2);
}

#ifdef ALEXNET_TEST_HAVE_LIBJPEG
// cv::imwrite cannot write CMYK; libjpeg can (with the Adobe marker, inverted CMYK as
// Photoshop writes it).
TEST(Decode, JpegCmyk) {
  TempDir dir;
  const std::string path = dir.file("cmyk.jpg");
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  jpeg_compress_struct ci;
  jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  jpeg_stdio_dest(&ci, f);
  ci.image_width = 16;
  ci.image_height = 8;
  ci.input_components = 4;
  ci.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 95, TRUE);
  jpeg_start_compress(&ci, TRUE);
  // Red = no cyan, full magenta and yellow, no black; stored inverted: 255, 0, 0, 255.
  std::vector<unsigned char> row(16 * 4);
  for (int x = 0; x < 16; ++x) {
    row[4 * x] = 255;
    row[4 * x + 1] = 0;
    row[4 * x + 2] = 0;
    row[4 * x + 3] = 255;
  }
  for (int y = 0; y < 8; ++y) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&ci, &r, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  std::fclose(f);

  auto rgb = DecodeImageFile(path);
  ASSERT_TRUE(rgb.ok()) << rgb.status().message();
  expect_rgb8(*rgb, 16, 8);
  const cv::Vec3b p = rgb->at<cv::Vec3b>(4, 8);
  EXPECT_GT(p[0], 200);
  EXPECT_LT(p[1], 60);
  EXPECT_LT(p[2], 60);
}
#endif

TEST(Decode, Png8BitIsExact) {
  const cv::Mat src = pattern_image(33, 17, 3);
  const cv::Mat rgb = decode_bytes(encode(to_bgr(src), ".png"), "png");
  expect_rgb8(rgb, 33, 17);
  EXPECT_EQ(cv::norm(rgb, src, cv::NORM_INF), 0);
}

TEST(Decode, Png16BitScalesTo8Bit) {
  cv::Mat bgr16(4, 5, CV_16UC3);
  const std::uint16_t values[] = {0, 256, 257, 1000, 32767, 40000, 65278, 65535};
  int k = 0;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x, ++k)
      bgr16.at<cv::Vec3w>(y, x) = cv::Vec3w(values[k % 8], values[(k + 3) % 8], values[(k + 5) % 8]);
  const cv::Mat rgb = decode_bytes(encode(bgr16, ".png"), "png16");
  expect_rgb8(rgb, 5, 4);
  k = 0;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 5; ++x, ++k) {
      const cv::Vec3w s = bgr16.at<cv::Vec3w>(y, x);
      const cv::Vec3b d = rgb.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) {  // RGB out from BGR in; 65535 -> 255, 257 -> 1, rounded
        EXPECT_EQ(d[c], static_cast<int>(std::lround(s[2 - c] / 257.0))) << s[2 - c];
      }
    }
  }
  // Grey 16-bit too.
  const cv::Mat grey16(3, 3, CV_16UC1, cv::Scalar(65535));
  const cv::Mat g = decode_bytes(encode(grey16, ".png"), "png grey16");
  EXPECT_EQ(g.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 255, 255));
}

TEST(Decode, PngGrey) {
  const cv::Mat grey(6, 7, CV_8UC1, cv::Scalar(123));
  const cv::Mat rgb = decode_bytes(encode(grey, ".png"), "png grey");
  expect_rgb8(rgb, 7, 6);
  EXPECT_EQ(rgb.at<cv::Vec3b>(2, 3), cv::Vec3b(123, 123, 123));
}

TEST(Decode, AlphaIsCompositedOverTheBackground) {
  cv::Mat bgra(2, 3, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = cv::Vec4b(0, 0, 200, 255);  // opaque red
  bgra.at<cv::Vec4b>(0, 1) = cv::Vec4b(0, 0, 200, 0);    // transparent
  bgra.at<cv::Vec4b>(0, 2) = cv::Vec4b(0, 0, 200, 128);  // half
  bgra.row(1).setTo(cv::Scalar(10, 20, 30, 255));
  for (const char* ext : {".png", ".webp", ".tiff"}) {
    std::vector<int> params;
    if (std::string(ext) == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // lossless
    const cv::Mat rgb = decode_bytes(encode(bgra, ext, params), ext);
    expect_rgb8(rgb, 3, 2);
    EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(200, 0, 0)) << ext;
    EXPECT_EQ(rgb.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 255)) << ext;  // white background
    const cv::Vec3b half = rgb.at<cv::Vec3b>(0, 2);
    EXPECT_NEAR(half[0], (200 * 128 + 255 * 127) / 255.0, 1.0) << ext;
    EXPECT_NEAR(half[1], 255 * 127 / 255.0, 1.0) << ext;
    EXPECT_EQ(rgb.at<cv::Vec3b>(1, 1), cv::Vec3b(30, 20, 10)) << ext;
  }
  // Another background.
  DecodeOptions o;
  o.alpha_background = {0, 0, 0};
  const auto bytes = encode(bgra, ".png");
  cv::Mat rgb;
  ASSERT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "png", o, rgb).ok());
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 1), cv::Vec3b(0, 0, 0));
}

TEST(Decode, LosslessFormatsAreExact) {
  const cv::Mat src = pattern_image(21, 13, 5);
  struct Case {
    const char* ext;
    std::vector<int> params;
  };
  const std::vector<Case> cases = {{".bmp", {}},
                                   {".tiff", {}},
                                   {".webp", {cv::IMWRITE_WEBP_QUALITY, 101}},
                                   {".ppm", {}},
                                   {".pam", {}},
                                   {".sr", {}}};
  for (const auto& c : cases) {
    const cv::Mat rgb = decode_bytes(encode(to_bgr(src), c.ext, c.params), c.ext);
    expect_rgb8(rgb, 21, 13);
    EXPECT_EQ(cv::norm(rgb, src, cv::NORM_INF), 0) << c.ext;
  }
  const cv::Mat grey(5, 9, CV_8UC1, cv::Scalar(77));
  for (const char* ext : {".bmp", ".tiff", ".pgm", ".webp"}) {
    const cv::Mat rgb = decode_bytes(encode(grey, ext), ext);
    expect_rgb8(rgb, 9, 5);
    EXPECT_EQ(rgb.at<cv::Vec3b>(2, 2), cv::Vec3b(77, 77, 77)) << ext;
  }
}

// Which headers image_header.h reads the size of: those it walks anyway for truncation (and
// EXIF), and those of PFM, Sun raster, Radiance HDR and OpenEXR (OpenCV refusing their size
// leaves a temporary file). JPEG's is read by libjpeg (jpeg_decode.h); WebP's and TIFF's (and
// the rest's) are left to OpenCV's limit.
TEST(Decode, HeaderSizeIsReadForPngBmpNetpbmAndFormatsDecodedFromATempFileOnly) {
  const cv::Mat bgr = to_bgr(pattern_image(21, 13, 5));
  cv::Mat bgr32;
  bgr.convertTo(bgr32, CV_32F, 1.0 / 255);
  for (const char* ext : {".jpg", ".png", ".bmp", ".ppm", ".webp", ".tiff", ".pam", ".sr", ".pfm", ".hdr", ".exr"}) {
    const auto bytes = encode(std::string(".pfm.hdr.exr").find(ext) != std::string::npos ? bgr32 : bgr, ext);
    const ImageHeader h = ProbeImageHeader(bytes.data(), bytes.size());
    EXPECT_EQ(h.problem, "") << ext;
    const bool expected = std::string(".png.bmp.ppm.sr.pfm.hdr.exr").find(ext) != std::string::npos;
    EXPECT_EQ(h.width, expected ? 21u : 0u) << ext;
    EXPECT_EQ(h.height, expected ? 13u : 0u) << ext;
  }
}

// PFM and Sun raster, whose header image_header.h reads: files written by cv::imwrite, and
// crafted ones (grey PFM with its rows stored bottom-up; Sun raster with rows padded to an even
// length), decode to their size and pixels.
TEST(Decode, PfmAndSunRasterDecodeToTheirSizeAndPixels) {
  TempDir dir;
  const cv::Mat src = pattern_image(21, 13, 2);  // odd width: Sun raster pads each row
  cv::Mat src32;
  src.convertTo(src32, CV_32F, 1.0 / 255);  // PFM holds floats, decoded as nominal 0..1
  write_rgb(dir.file("a.pfm"), src32);
  write_rgb(dir.file("a.sr"), src);
  for (const char* name : {"a.pfm", "a.sr"}) {
    const auto rgb = DecodeImageFile(dir.file(name));
    ASSERT_TRUE(rgb.ok()) << rgb.status().message();
    expect_rgb8(*rgb, 21, 13);
    EXPECT_EQ(cv::norm(*rgb, src, cv::NORM_INF), 0) << name;
    const auto bytes = read_bytes(dir.file(name));
    const ImageHeader h = ProbeImageHeader(bytes.data(), bytes.size());
    EXPECT_EQ(h.width, 21u) << name;
    EXPECT_EQ(h.height, 13u) << name;
    EXPECT_EQ(h.problem, "") << name;
  }

  // 3 x 2 grey PFM, little-endian (negative scale), bottom row first.
  const std::string header = "Pf\n3 2\n-1.0\n";
  std::vector<std::uint8_t> pfm(header.begin(), header.end());
  for (const float v : {0.25f, 0.75f, 2.0f, 0.0f, 0.5f, 1.0f}) {
    std::uint8_t le[4];
    std::memcpy(le, &v, 4);  // x86: little-endian
    pfm.insert(pfm.end(), le, le + 4);
  }
  const cv::Mat g = decode_bytes(pfm, "grey pfm");
  expect_rgb8(g, 3, 2);
  EXPECT_EQ(g.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(g.at<cv::Vec3b>(0, 1), cv::Vec3b(128, 128, 128));  // 0.5 * 255, rounded to even
  EXPECT_EQ(g.at<cv::Vec3b>(0, 2), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(g.at<cv::Vec3b>(1, 0), cv::Vec3b(64, 64, 64));
  EXPECT_EQ(g.at<cv::Vec3b>(1, 1), cv::Vec3b(191, 191, 191));
  EXPECT_EQ(g.at<cv::Vec3b>(1, 2), cv::Vec3b(255, 255, 255));  // 2.0 clipped

  // 3 x 2 Sun raster, 24-bit (BGR, as OpenCV writes it), each 9-byte row padded to 10.
  const std::vector<std::uint8_t> sun = {0x59, 0xa6, 0x6a, 0x95, 0, 0, 0, 3,  0,  0,  0,  2,  0,  0,  0,  24,
                                         0,    0,    0,    20,   0, 0, 0, 1,  0,  0,  0,  0,  0,  0,  0,  0,
                                         10,   20,   30,   40,   50, 60, 70, 80, 90, 0,
                                         11,   21,   31,   41,   51, 61, 71, 81, 91, 0};
  const cv::Mat r = decode_bytes(sun, "sun raster");
  expect_rgb8(r, 3, 2);
  EXPECT_EQ(r.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));
  EXPECT_EQ(r.at<cv::Vec3b>(0, 2), cv::Vec3b(90, 80, 70));
  EXPECT_EQ(r.at<cv::Vec3b>(1, 1), cv::Vec3b(61, 51, 41));
  EXPECT_EQ(r.at<cv::Vec3b>(1, 2), cv::Vec3b(91, 81, 71));

  // 3 x 2 Sun raster, 8-bit grey without a colour map, each 3-byte row padded to 4. OpenCV 4.6
  // decodes it as all zeros when asked for one channel, as IMREAD_UNCHANGED does.
  const std::vector<std::uint8_t> grey_sun = {0x59, 0xa6, 0x6a, 0x95, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 8,
                                              0,    0,    0,    8,    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                              10,   20,   30,   0,    40, 50, 60, 0};
  const cv::Mat gs = decode_bytes(grey_sun, "grey sun raster");
  expect_rgb8(gs, 3, 2);
  EXPECT_EQ(gs.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 10, 10));
  EXPECT_EQ(gs.at<cv::Vec3b>(0, 2), cv::Vec3b(30, 30, 30));
  EXPECT_EQ(gs.at<cv::Vec3b>(1, 1), cv::Vec3b(50, 50, 50));
  // And the grey file OpenCV writes, pixel for pixel.
  const cv::Mat grey = pattern_image(21, 13, 3).reshape(1, 13).colRange(0, 21).clone();
  const cv::Mat decoded_grey = decode_bytes(encode(grey, ".sr"), "cv grey sun raster");
  cv::Mat expected;
  cv::cvtColor(grey, expected, cv::COLOR_GRAY2RGB);
  EXPECT_EQ(cv::norm(decoded_grey, expected, cv::NORM_INF), 0);
}

TEST(Decode, LossyWebpAnd16BitTiff) {
  const cv::Mat rgb = decode_bytes(encode(to_bgr(red_blue()), ".webp", {cv::IMWRITE_WEBP_QUALITY, 90}), "webp");
  expect_rgb8(rgb, 64, 48);
  expect_red_blue(rgb, 20, "webp");
  const cv::Mat bgr16(4, 4, CV_16UC3, cv::Scalar(0, 0, 65535));
  const cv::Mat t = decode_bytes(encode(bgr16, ".tiff"), "tiff16");
  EXPECT_EQ(t.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 0, 0));
}

TEST(Decode, FloatFormatsAreClippedFromZeroToOne) {
  const cv::Mat bgr(4, 6, CV_32FC3, cv::Scalar(0.25, 0.5, 2.0));  // R = 2.0 clips to 255
  for (const char* ext : {".pfm", ".exr", ".hdr"}) {
    const cv::Mat rgb = decode_bytes(encode(bgr, ext), ext);
    expect_rgb8(rgb, 6, 4);
    const cv::Vec3b p = rgb.at<cv::Vec3b>(2, 3);
    EXPECT_EQ(p[0], 255) << ext;
    EXPECT_NEAR(p[1], 128, 4) << ext;
    EXPECT_NEAR(p[2], 64, 4) << ext;
  }
}

TEST(Decode, Jpeg2000) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = encode(to_bgr(red_blue(64, 64)), ".jp2");
  } catch (...) {
    GTEST_SKIP() << "this OpenCV cannot write JPEG 2000";
  }
  const cv::Mat rgb = decode_bytes(bytes, "jp2");
  expect_rgb8(rgb, 64, 64);
  expect_red_blue(rgb, 20, "jp2");
}

// Quadrants of the stored image: top-left red, top-right green, bottom-left blue,
// bottom-right white. After orientation, the displayed corners must be as EXIF defines them.
enum Colour { kRed, kGreen, kBlue, kWhite };
cv::Mat quadrants(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  m(cv::Rect(0, 0, w / 2, h / 2)).setTo(cv::Scalar(255, 0, 0));
  m(cv::Rect(w / 2, 0, w / 2, h / 2)).setTo(cv::Scalar(0, 255, 0));
  m(cv::Rect(0, h / 2, w / 2, h / 2)).setTo(cv::Scalar(0, 0, 255));
  m(cv::Rect(w / 2, h / 2, w / 2, h / 2)).setTo(cv::Scalar(255, 255, 255));
  return m;
}
Colour colour_at(const cv::Mat& rgb, int x, int y) {
  const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
  if (p[0] > 128 && p[1] > 128) return kWhite;
  if (p[0] > 128) return kRed;
  if (p[1] > 128) return kGreen;
  return kBlue;
}
void expect_corners(const cv::Mat& rgb, const std::array<Colour, 4>& tl_tr_bl_br, int orientation) {
  const int w = rgb.cols, h = rgb.rows;
  EXPECT_EQ(colour_at(rgb, 3, 3), tl_tr_bl_br[0]) << "orientation " << orientation;
  EXPECT_EQ(colour_at(rgb, w - 4, 3), tl_tr_bl_br[1]) << "orientation " << orientation;
  EXPECT_EQ(colour_at(rgb, 3, h - 4), tl_tr_bl_br[2]) << "orientation " << orientation;
  EXPECT_EQ(colour_at(rgb, w - 4, h - 4), tl_tr_bl_br[3]) << "orientation " << orientation;
}

const std::array<std::array<Colour, 4>, 9> kExpectedCorners = {{
    {},                                   // unused
    {{kRed, kGreen, kBlue, kWhite}},      // 1: as stored
    {{kGreen, kRed, kWhite, kBlue}},      // 2: mirrored
    {{kWhite, kBlue, kGreen, kRed}},      // 3: rotated 180
    {{kBlue, kWhite, kRed, kGreen}},      // 4: mirrored vertically
    {{kRed, kBlue, kGreen, kWhite}},      // 5: transposed
    {{kBlue, kRed, kWhite, kGreen}},      // 6: rotate 90 clockwise to view
    {{kWhite, kGreen, kBlue, kRed}},      // 7: transverse
    {{kGreen, kWhite, kRed, kBlue}},      // 8: rotate 90 counter-clockwise to view
}};

TEST(Decode, ExifOrientationInJpeg) {
  const auto jpeg = encode(to_bgr(quadrants(64, 32)), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 100});
  for (bool big_endian : {true, false}) {
    for (int o = 1; o <= 8; ++o) {
      const auto bytes = with_exif_orientation(jpeg, o, big_endian);
      cv::Mat rgb;
      ASSERT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "exif", {}, rgb).ok());
      EXPECT_EQ(rgb.cols, o >= 5 ? 32 : 64) << "orientation " << o;
      expect_corners(rgb, kExpectedCorners[static_cast<std::size_t>(o)], o);
    }
  }
  // Switched off: as stored.
  DecodeOptions off;
  off.apply_exif_orientation = false;
  const auto bytes = with_exif_orientation(jpeg, 6, true);
  cv::Mat rgb;
  ASSERT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "exif", off, rgb).ok());
  expect_corners(rgb, kExpectedCorners[1], 1);
}

TEST(Decode, ExifOrientationInPng) {
  const auto png = encode(to_bgr(quadrants(64, 32)), ".png");
  const auto bytes = with_png_chunk(png, "eXIf", exif_tiff_block(6, false));
  const cv::Mat rgb = decode_bytes(bytes, "png eXIf");
  EXPECT_EQ(rgb.cols, 32);
  EXPECT_EQ(rgb.rows, 64);
  expect_corners(rgb, kExpectedCorners[6], 6);
}

// A lossless WebP rewrapped in the extended format (VP8X) with an EXIF chunk after the image:
// OpenCV 4.6 does not orient it (IMREAD_UNCHANGED), image_header.h reads it.
TEST(Decode, ExifOrientationInWebp) {
  const auto simple = encode(to_bgr(quadrants(64, 32)), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
  ASSERT_EQ(std::string(simple.begin() + 12, simple.begin() + 16), "VP8L");
  auto le = [](std::vector<std::uint8_t>& b, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  std::vector<std::uint8_t> b = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X'};
  le(b, 10, 4);
  b.insert(b.end(), {0x08, 0, 0, 0});  // flags: EXIF present
  le(b, 64 - 1, 3);
  le(b, 32 - 1, 3);
  b.insert(b.end(), simple.begin() + 12, simple.end());  // the VP8L chunk as written
  const std::vector<std::uint8_t> exif = exif_tiff_block(6, true);
  b.insert(b.end(), {'E', 'X', 'I', 'F'});
  le(b, static_cast<std::uint32_t>(exif.size()), 4);
  b.insert(b.end(), exif.begin(), exif.end());
  if (exif.size() % 2) b.push_back(0);
  const std::uint32_t riff = static_cast<std::uint32_t>(b.size() - 8);
  for (int i = 0; i < 4; ++i) b[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(riff >> (8 * i));
  EXPECT_EQ(ProbeImageHeader(b.data(), b.size()).orientation, 6);
  const cv::Mat rgb = decode_bytes(b, "webp EXIF");
  EXPECT_EQ(rgb.cols, 32);
  EXPECT_EQ(rgb.rows, 64);
  expect_corners(rgb, kExpectedCorners[6], 6);
}

TEST(Decode, ReadsFromFile) {
  TempDir dir;
  write_rgb(dir.file("a.png"), red_blue());
  auto rgb = DecodeImageFile(dir.file("a.png"));
  ASSERT_TRUE(rgb.ok());
  expect_red_blue(*rgb, 0, "file");
}

}  // namespace
}  // namespace alexnet::data
