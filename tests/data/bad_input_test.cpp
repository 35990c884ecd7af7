// Bad input: every kind of broken file is reported with its path and reason and skipped; absurd
// sizes are refused before decoding; broken datasets give clear errors. Nothing crashes.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include <zlib.h>
#include <filesystem>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/color_stats.h"
#include "data/decode.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;
namespace fs = std::filesystem;

// Decoding `path` must fail with a reason containing `expected`, naming the path.
void expect_refused(const std::string& path, const std::string& expected,
                    const DecodeOptions& options = {}) {
  cv::Mat rgb;
  const Status st = DecodeImageFile(path, options, rgb);
  ASSERT_FALSE(st.ok()) << path << " decoded, but should fail with: " << expected;
  EXPECT_EQ(st.path(), path);
  EXPECT_NE(st.reason().find(expected), std::string::npos)
      << "expected reason containing '" << expected << "', got '" << st.reason() << "'";
}

std::vector<std::uint8_t> cut(std::vector<std::uint8_t> bytes, double fraction) {
  bytes.resize(static_cast<std::size_t>(bytes.size() * fraction));
  return bytes;
}

cv::Mat bgr_pattern() { return pattern_image(64, 48, 1); }

TEST(BadInput, EmptyFile) {
  TempDir dir;
  write_bytes(dir.file("empty.jpg"), {});
  expect_refused(dir.file("empty.jpg"), "empty file");
}

TEST(BadInput, TruncatedFiles) {
  TempDir dir;
  struct Case {
    const char* ext;
    std::vector<int> params;
    double keep;
  };
  const std::vector<Case> cases = {{".jpg", {cv::IMWRITE_JPEG_QUALITY, 95}, 0.7},
                                   {".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, 0.7},
                                   {".png", {}, 0.7},
                                   {".webp", {}, 0.7},
                                   {".bmp", {}, 0.7},
                                   {".tiff", {}, 0.7},
                                   {".ppm", {}, 0.7},
                                   {".jpg", {}, 0.01},  // inside the header
                                   {".png", {}, 0.1}};
  int k = 0;
  for (const auto& c : cases) {
    const std::string path = dir.file("cut" + std::to_string(k++) + c.ext);
    write_bytes(path, cut(encode(bgr_pattern(), c.ext, c.params), c.keep));
    // OpenCV 4.6 reports a truncated BMP or PPM only by printing "imdecode_(''): can't read
    // data: ..." to stderr, without the path: our header check refuses them first, silently.
    StderrCapture err;
    expect_refused(path, "truncated");
    EXPECT_EQ(err.finish(), "") << c.ext;
  }
}

TEST(BadInput, NotAnImage) {
  TempDir dir;
  const std::string text = "<html><body>404 Not Found</body></html>\n";
  write_bytes(dir.file("page.jpg"), std::vector<std::uint8_t>(text.begin(), text.end()));
  expect_refused(dir.file("page.jpg"), "not an image");
  expect_refused(dir.file("page.jpg"), "<html>");  // says what it looks like
  std::vector<std::uint8_t> noise(1000);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 7919 % 251 + 3);
  write_bytes(dir.file("noise.png"), noise);
  expect_refused(dir.file("noise.png"), "not an image");
}

TEST(BadInput, CorruptPngData) {
  TempDir dir;
  auto bytes = encode(bgr_pattern(), ".png");
  // Damage the compressed pixels (after IHDR); chunk lengths stay valid, CRCs do not.
  for (std::size_t i = 60; i < 90 && i < bytes.size(); ++i) bytes[i] ^= 0x5a;
  write_bytes(dir.file("bad.png"), bytes);
  expect_refused(dir.file("bad.png"), "corrupt or unsupported PNG");
}

TEST(BadInput, DirectoryNamedLikeAnImage) {
  TempDir dir;
  fs::create_directories(dir.file("photo.jpg"));
  expect_refused(dir.file("photo.jpg"), "is a directory");
}

TEST(BadInput, DanglingSymlink) {
  TempDir dir;
  fs::create_symlink(dir.file("gone.jpg"), dir.file("link.jpg"));
  expect_refused(dir.file("link.jpg"), "dangling symbolic link");
}

TEST(BadInput, FifoNamedLikeAnImageDoesNotBlock) {
  TempDir dir;
  ASSERT_EQ(mkfifo(dir.file("pipe.jpg").c_str(), 0644), 0);
  expect_refused(dir.file("pipe.jpg"), "not a regular file");
}

TEST(BadInput, AnimatedWebp) {
  // RIFF header and a VP8X chunk with the animation flag, 1 x 1 canvas.
  std::vector<std::uint8_t> b = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
                                 'V', 'P', '8', 'X', 10, 0, 0, 0, 0x02, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0};
  TempDir dir;
  write_bytes(dir.file("anim.webp"), b);
  expect_refused(dir.file("anim.webp"), "animated WebP");
}

TEST(BadInput, MissingFile) {
  TempDir dir;
  expect_refused(dir.file("nothing.jpg"), "No such file");
}

TEST(BadInput, UnreadableFile) {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const std::string path = dir.file("secret.png");
  write_bytes(path, encode(bgr_pattern(), ".png"));
  fs::permissions(path, fs::perms::none);
  if (geteuid() != 0) {
    expect_refused(path, "Permission denied");
    return;
  }
  // Root reads any file, so check as user "nobody" in a child process.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::string msg;
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      msg = "SKIP";
    } else {
      cv::Mat rgb;
      const Status st = DecodeImageFile(path, {}, rgb);
      msg = st.ok() ? "DECODED" : st.message();
    }
    if (write(fds[1], msg.data(), msg.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) msg.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (msg == "SKIP") GTEST_SKIP() << "running as root without the right to switch user";
  EXPECT_EQ(msg, path + ": cannot open: Permission denied");
}

// Sets the width and height a small file's header declares.
std::vector<std::uint8_t> claim_size(std::vector<std::uint8_t> b, const std::string& ext,
                                     std::uint32_t w, std::uint32_t h) {
  auto be32 = [&](std::size_t o, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[o + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  };
  if (ext == ".png") {  // IHDR at 16, CRC over type+data at 29
    be32(16, w);
    be32(20, h);
    be32(29, static_cast<std::uint32_t>(crc32(0, b.data() + 12, 17)));
  } else if (ext == ".jpg") {  // SOF0: FF C0 len(2) precision(1) height(2) width(2)
    for (std::size_t i = 2; i + 9 < b.size(); ++i) {
      if (b[i] == 0xFF && b[i + 1] == 0xC0) {
        b[i + 5] = static_cast<std::uint8_t>(h >> 8);
        b[i + 6] = static_cast<std::uint8_t>(h);
        b[i + 7] = static_cast<std::uint8_t>(w >> 8);
        b[i + 8] = static_cast<std::uint8_t>(w);
        break;
      }
    }
  } else if (ext == ".bmp") {  // little-endian int32 at 18 and 22
    for (int i = 0; i < 4; ++i) {
      b[18 + i] = static_cast<std::uint8_t>(w >> (8 * i));
      b[22 + i] = static_cast<std::uint8_t>(h >> (8 * i));
    }
  } else if (ext == ".webp") {  // lossless VP8L: 14-bit width-1, height-1 after 0x2f at 20
    const std::uint32_t bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14) |
                               (static_cast<std::uint32_t>(b[24] & 0xf0) << 24);
    for (int i = 0; i < 4; ++i) b[21 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
  } else if (ext == ".tiff") {  // little-endian IFD0: tags 256/257, SHORT or LONG value
    const std::uint32_t ifd = b[4] | (b[5] << 8) | (b[6] << 16) | (static_cast<std::uint32_t>(b[7]) << 24);
    const int entries = b[ifd] | (b[ifd + 1] << 8);
    for (int e = 0; e < entries; ++e) {
      const std::size_t o = ifd + 2 + 12 * static_cast<std::size_t>(e);
      const int tag = b[o] | (b[o + 1] << 8), type = b[o + 2] | (b[o + 3] << 8);
      const std::uint32_t v = tag == 256 ? w : tag == 257 ? h : 0;
      if (!v) continue;
      const int bytes = type == 3 ? 2 : 4;
      for (int i = 0; i < bytes; ++i) b[o + 8 + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
  }
  return b;
}

// Formats whose header image_header.h reads (JPEG, PNG, BMP): the declared size is named and
// refused before decoding, whatever OpenCV's limit is.
TEST(BadInput, AbsurdSizeIsRefusedBeforeDecoding) {
  TempDir dir;
  struct Case {
    const char* ext;
    std::uint32_t w, h;
  };
  const std::vector<Case> cases = {{".png", 100000, 100000}, {".jpg", 65000, 65000}, {".bmp", 100000, 100000}};
  for (const auto& c : cases) {
    const std::string path = dir.file(std::string("huge") + c.ext);
    write_bytes(path, claim_size(encode(bgr_pattern(), c.ext), c.ext, c.w, c.h));
    expect_refused(path, std::to_string(c.w) + " x " + std::to_string(c.h));
    expect_refused(path, "refused before decoding");
  }
}

// Runs one disabled test of this program in a child process started with `environment` (OpenCV
// reads its limits when it is loaded, so only a new process sees them); true when it passed.
bool passes_in_child(const std::string& test, const std::string& environment) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string cmd = environment + " '" + self + "' --gtest_also_run_disabled_tests --gtest_filter=BadInput." +
                          test + " > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Peak of this process's address space may grow by `bytes` at most from here on (not under
// ASan or TSan, which reserve terabytes of shadow memory): an allocation beyond it fails.
void limit_address_space_growth(std::uint64_t bytes) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  std::uint64_t pages = 0;
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  ASSERT_NE(statm, nullptr);
  ASSERT_EQ(std::fscanf(statm, "%lu", &pages), 1);
  std::fclose(statm);
  const rlim_t limit = pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) + bytes;
  const rlimit r{limit, limit};
  ASSERT_EQ(setrlimit(RLIMIT_AS, &r), 0);
#else
  (void)bytes;
#endif
}

// WebP and TIFF, whose size image_header.h does not read: OpenCV's limit, at the alexnet
// program's default (set in the environment as src/cli/start_environment.cpp does), refuses them before
// allocating. 12000 x 12000 is under OpenCV's own default (2^30 pixels), so only the
// environment's limit stops it; the address space may grow by 256 MB, and decoding it would
// ask for 432 MB.
TEST(BadInput, DISABLED_AbsurdSizeInChildWithTheProgramsOpenCvLimit) {
  ASSERT_NE(std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS"), nullptr) << "run by AbsurdSizeIsRefusedByOpenCvsLimit";
  TempDir dir;
  struct Case {
    const char* ext;
    std::vector<int> params;
    std::uint32_t w, h;
  };
  const std::vector<Case> cases = {{".webp", {cv::IMWRITE_WEBP_QUALITY, 101}, 16384, 16384},
                                   {".tiff", {}, 65000, 65000},
                                   {".tiff", {}, 12000, 12000}};
  int k = 0;
  for (const auto& c : cases) {
    const std::string path = dir.file("huge" + std::to_string(k++) + c.ext);
    write_bytes(path, claim_size(encode(bgr_pattern(), c.ext, c.params), c.ext, c.w, c.h));
  }
  limit_address_space_growth(256u << 20);
  for (int i = 0; i < k; ++i) {
    const std::string path = dir.file("huge" + std::to_string(i) + cases[static_cast<std::size_t>(i)].ext);
    expect_refused(path, "image has more pixels than OpenCV's decode limit of " +
                             std::to_string(kDefaultMaxPixels) + " (OPENCV_IO_MAX_IMAGE_PIXELS in the environment");
    expect_refused(path, "refused before decoding");
  }
}

TEST(BadInput, AbsurdSizeIsRefusedByOpenCvsLimit) {
  EXPECT_TRUE(passes_in_child("DISABLED_AbsurdSizeInChildWithTheProgramsOpenCvLimit",
                              "OPENCV_IO_MAX_IMAGE_PIXELS=" + std::to_string(kDefaultMaxPixels)));
}

// PFM bytes: `header` as given ("PF\n<width> <height>\n<scale>\n" when well formed), then
// `pixel_bytes` zero bytes.
std::vector<std::uint8_t> pfm(const std::string& header, std::size_t pixel_bytes = 0) {
  std::vector<std::uint8_t> b(header.begin(), header.end());
  b.resize(b.size() + pixel_bytes, 0);
  return b;
}

// A Sun raster file declaring w x h (24-bit, no colour map) with `pixel_bytes` zero bytes.
std::vector<std::uint8_t> sun_raster(std::uint32_t w, std::uint32_t h, std::size_t pixel_bytes = 0) {
  std::vector<std::uint8_t> b(32 + pixel_bytes, 0);
  const std::uint32_t fields[8] = {0x59a66a95, w, h, 24, static_cast<std::uint32_t>(pixel_bytes), 1, 0, 0};
  for (int f = 0; f < 8; ++f) {
    for (int i = 0; i < 4; ++i) b[4 * f + i] = static_cast<std::uint8_t>(fields[f] >> (24 - 8 * i));
  }
  return b;
}

struct BadHeader {
  std::string name;
  std::vector<std::uint8_t> bytes;
  std::string reason;  // part of the expected reason
};

// A Radiance HDR file: `header` as given, then `pixel_bytes` bytes of flat RGBE pixels.
std::vector<std::uint8_t> hdr(const std::string& header, std::size_t pixel_bytes = 0) {
  std::vector<std::uint8_t> b(header.begin(), header.end());
  b.resize(b.size() + pixel_bytes, 0x80);
  return b;
}

// A 6 x 4 float OpenEXR file written by OpenCV with its dataWindow (xMin, yMin, xMax, yMax)
// replaced; `attribute` and `type` rename those of the dataWindow.
std::vector<std::uint8_t> exr_window(std::int32_t x0, std::int32_t y0, std::int32_t x1, std::int32_t y1,
                                     const std::string& attribute = "dataWindow", const std::string& type = "box2i") {
  std::vector<std::uint8_t> b = encode(cv::Mat(4, 6, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5)), ".exr");
  const std::string key("dataWindow\0box2i\0", 17);
  const auto at = std::search(b.begin(), b.end(), key.begin(), key.end());
  EXPECT_NE(at, b.end()) << "OpenCV's EXR has no dataWindow";
  if (at == b.end()) return b;
  std::copy(attribute.begin(), attribute.end(), at);
  std::copy(type.begin(), type.end(), at + 11);
  const std::int32_t window[4] = {x0, y0, x1, y1};
  std::memcpy(&*(at + 17 + 4), window, sizeof window);  // after the 4-byte size; little endian here
  return b;
}

// `exr` (from exr_window) with a line offset table of `chunks` entries, all pointing at 64 zero
// bytes after it, in place of OpenCV's: with one entry per 16 lines (ZIP, OpenCV's compression),
// OpenEXR reads the header of a huge dataWindow and leaves the size to OpenCV.
std::vector<std::uint8_t> exr_offsets(std::vector<std::uint8_t> exr, std::uint64_t chunks) {
  const std::string last("screenWindowWidth\0float\0", 24);
  const auto at = std::search(exr.begin(), exr.end(), last.begin(), last.end());
  EXPECT_NE(at, exr.end()) << "OpenCV's EXR does not end its header with screenWindowWidth";
  if (at == exr.end()) return exr;
  exr.resize(static_cast<std::size_t>(at - exr.begin()) + last.size() + 4 + 4 + 1);  // size, value, end
  const std::uint64_t data = exr.size() + 8 * chunks;
  for (std::uint64_t i = 0; i < chunks; ++i) {
    for (int k = 0; k < 8; ++k) exr.push_back(static_cast<std::uint8_t>(data >> (8 * k)));
  }
  exr.resize(exr.size() + 64, 0);
  return exr;
}

// PFM, Sun raster, Radiance HDR and OpenEXR files whose size OpenCV 4.6 would refuse (after
// writing them to a temporary file, image_header.h) or whose header is cut short or unparsable.
std::vector<BadHeader> bad_temp_file_headers() {
  std::vector<std::uint8_t> cut_sun = sun_raster(4, 4, 48);
  cut_sun.resize(20);
  std::vector<std::uint8_t> cut_exr = exr_window(0, 0, 5, 3);
  cut_exr.resize(100);  // in the dataWindow's name
  const std::string kHdr = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n";
  return {
      {"pfm-width-0.pfm", pfm("PF\n0 4\n-1.0\n", 48), "PFM header declares an empty image (0 x 4)"},
      {"pfm-height-0.pfm", pfm("Pf\n4 0\n-1.0\n"), "PFM header declares an empty image (4 x 0)"},
      {"pfm-wide.pfm", pfm("PF\n2000000 1\n-1.0\n", 64), "image is wider than OpenCV's decode limit"},
      {"pfm-tall.pfm", pfm("Pf\n1 2000000\n-1\n", 64), "image is taller than OpenCV's decode limit"},
      {"pfm-huge.pfm", pfm("PF\n100000 100000\n-1.0\n", 64),
       "PFM header declares 100000 x 100000 = 10000000000 pixels, above the limit of 64000000"},
      {"pfm-10-digits.pfm", pfm("PF\n9999999999 1\n-1\n", 64), "PFM header declares 9999999999 x 1"},
      {"pfm-11-digits.pfm", pfm("PF\n12345678901 1\n-1\n", 64),
       "corrupt PFM header (the width at byte 3 is not a number of 1 to 10 digits)"},
      {"pfm-cut-after-magic.pfm", pfm("PF\n"), "truncated PFM header (the file ends in its width)"},
      {"pfm-cut-in-height.pfm", pfm("PF\n4 3"), "truncated PFM header (the file ends in its height)"},
      {"pfm-cut-in-scale.pfm", pfm("Pf\n4 3\n-1.0"), "truncated PFM header (the file ends in its scale)"},
      // OpenCV reads the bytes up to the next whitespace byte as a number: height "" = 0 here.
      {"pfm-two-spaces.pfm", pfm("PF\n4  3\n-1.0\n", 144), "corrupt PFM header (the height at byte 5"},
      {"pfm-words.pfm", pfm("PF\nfour 3\n-1\n", 144), "corrupt PFM header (the width at byte 3"},
      {"pfm-negative.pfm", pfm("PF\n-4 3\n-1\n", 144), "corrupt PFM header (the width at byte 3"},
      {"pfm-crlf.pfm", pfm("PF\r\n4 3\n-1\n", 144), "corrupt PFM header (no line break after \"PF\")"},
      // OpenCV itself refuses these, but prints a line naming its temporary file at each decode.
      {"pfm-short.pfm", pfm("PF\n4 3\n-1.0\n", 143),
       "truncated PFM (143 of the 144 bytes of pixels its header declares)"},
      {"pfm-grey-short.pfm", pfm("Pf\n4 3\n-1.0\n", 47), "truncated PFM (47 of the 48 bytes of pixels"},
      {"pfm-no-pixels.pfm", pfm("Pf\n4 3\n-1.0\n"), "truncated PFM (0 of the 48 bytes of pixels"},
      {"sun-width-0.ras", sun_raster(0, 3, 36), "Sun raster header declares an empty image (0 x 3)"},
      {"sun-height-0.ras", sun_raster(5, 0, 36), "Sun raster header declares an empty image (5 x 0)"},
      {"sun-wide.ras", sun_raster(2000000, 3, 36), "image is wider than OpenCV's decode limit"},
      {"sun-tall.ras", sun_raster(3, 2000000, 36), "image is taller than OpenCV's decode limit"},
      {"sun-huge.ras", sun_raster(100000, 100000, 36),
       "Sun raster header declares 100000 x 100000 = 10000000000 pixels, above the limit of 64000000"},
      {"sun-negative-int.ras", sun_raster(0x80000000u, 1, 36), "Sun raster header declares 2147483648 x 1"},
      {"sun-cut-header.ras", cut_sun, "truncated Sun raster header (20 of 32 bytes)"},
      {"sun-magic-only.ras", {0x59, 0xa6, 0x6a, 0x95}, "truncated Sun raster header (4 of 32 bytes)"},
      {"hdr-huge.hdr", hdr(kHdr + "-Y 100000 +X 100000\n", 64),
       "Radiance HDR header declares 100000 x 100000 = 10000000000 pixels, above the limit of 64000000"},
      {"hdr-wide.hdr", hdr(kHdr + "-Y 1 +X 2000000\n", 64), "image is wider than OpenCV's decode limit"},
      {"hdr-height-0.hdr", hdr(kHdr + "-Y 0 +X 5\n", 64), "Radiance HDR header declares an empty image (5 x 0)"},
      // %d takes a sign; OpenCV then refuses the size, after its temporary file is written.
      {"hdr-negative.hdr", hdr(kHdr + "-Y -4 +X 3\n", 64),
       "corrupt Radiance HDR header (the size line at byte 35 is not \"-Y <height> +X <width>\""},
      {"hdr-11-digits.hdr", hdr(kHdr + "-Y 12345678901 +X 3\n", 64), "with 1 to 10 digits each"},
      {"hdr-other-orientation.hdr", hdr(kHdr + "+X 3 -Y 4\n", 64), "the only orientation OpenCV reads"},
      {"hdr-no-format.hdr", hdr("#?RADIANCE\nEXPOSURE=1\n\n-Y 4 +X 3\n", 64),
       "corrupt Radiance HDR header (no FORMAT=32-bit_rle_rgbe line before its blank line)"},
      {"hdr-no-blank-line.hdr", hdr("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n-Y 4 +X 3\n", 64),
       "corrupt Radiance HDR header (no blank line after FORMAT=32-bit_rle_rgbe)"},
      {"hdr-cut.hdr", hdr(kHdr + "-Y 4 +X 3"), "truncated Radiance HDR header (the file ends before its size line)"},
      {"hdr-magic-only.hdr", hdr("#?"), "truncated Radiance HDR header"},
      {"exr-huge.exr", exr_window(0, 0, 99999, 99999),
       "OpenEXR header declares 100000 x 100000 = 10000000000 pixels, above the limit of 64000000"},
      {"exr-huge-offsets.exr", exr_offsets(exr_window(0, 0, 99999, 99999), 6250),
       "OpenEXR header declares 100000 x 100000 = 10000000000 pixels, above the limit of 64000000"},
      {"exr-wide.exr", exr_window(0, 0, 1999999, 3), "image is wider than OpenCV's decode limit"},
      {"exr-tall.exr", exr_window(0, -2000000, 5, 3), "image is taller than OpenCV's decode limit"},
      {"exr-int-range.exr", exr_window(INT32_MIN, 0, INT32_MAX, 0), "OpenEXR header declares 4294967296 x 1"},
      {"exr-empty.exr", exr_window(5, 0, 4, 3),
       "OpenEXR header declares an empty image (dataWindow 5,0 to 4,3)"},
      {"exr-no-window.exr", exr_window(0, 0, 5, 3, "dataWindoX"),
       "corrupt OpenEXR header (no dataWindow attribute)"},
      {"exr-float-window.exr", exr_window(0, 0, 5, 3, "dataWindow", "box2f"),
       "corrupt OpenEXR header (its dataWindow at byte"},
      {"exr-cut.exr", cut_exr, "truncated OpenEXR header (the file ends in its attributes)"},
  };
}

// Files named __opencv_temp.* in `dir`.
int opencv_temp_files(const std::string& dir) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    n += entry.path().filename().string().rfind("__opencv_temp.", 0) == 0;
  }
  return n;
}

// Points OpenCV's temporary files (cv::tempfile(), which reads OPENCV_TEMP_PATH at each call;
// /tmp when unset) at `dir` while in scope, so that counting them there is not disturbed by other
// processes sharing /tmp.
class OpenCvTempPath {
 public:
  explicit OpenCvTempPath(const std::string& dir) {
    if (const char* old = std::getenv("OPENCV_TEMP_PATH")) old_ = old;
    setenv("OPENCV_TEMP_PATH", dir.c_str(), 1);
  }
  ~OpenCvTempPath() {
    if (old_.empty()) unsetenv("OPENCV_TEMP_PATH");
    else setenv("OPENCV_TEMP_PATH", old_.c_str(), 1);
  }
  OpenCvTempPath(const OpenCvTempPath&) = delete;
  OpenCvTempPath& operator=(const OpenCvTempPath&) = delete;

 private:
  std::string old_;
};

// Formats OpenCV 4.6 decodes from a temporary file: a size of 0 or above a limit, and a header
// cut short or unparsable, are refused by our header check with the format and the reason.
TEST(BadInput, HeadersOfFormatsDecodedFromATempFileAreRefusedBeforeDecoding) {
  TempDir dir, temp;
  const OpenCvTempPath redirect(temp.path().string());  // not /tmp, should one be left behind
  for (const BadHeader& c : bad_temp_file_headers()) {
    write_bytes(dir.file(c.name), c.bytes);
    expect_refused(dir.file(c.name), c.reason);
  }
}

// OpenCV 4.6's imdecode writes a PFM, Sun raster, Radiance HDR or OpenEXR file to
// /tmp/__opencv_temp.XXXXXX and reads the header from there; its size check then throws past the
// removal of that file. Before the header check refused these, every such bad file (each epoch,
// each `predict`) left one in /tmp.
TEST(BadInput, RefusedHeadersLeaveNoOpenCvTempFile) {
  TempDir dir, temp;
  const OpenCvTempPath redirect(temp.path().string());
  ASSERT_EQ(cv::tempfile().rfind(temp.file("__opencv_temp."), 0), 0u)
      << "OpenCV does not follow OPENCV_TEMP_PATH: " << cv::tempfile();
  for (const BadHeader& c : bad_temp_file_headers()) {
    const std::string path = dir.file(c.name);
    write_bytes(path, c.bytes);
    const int before = opencv_temp_files(temp.path().string());
    cv::Mat rgb;
    EXPECT_FALSE(DecodeImageFile(path, {}, rgb).ok()) << c.name;
    EXPECT_FALSE(DecodeImageBytes(c.bytes.data(), c.bytes.size(), c.name, {}, rgb).ok()) << c.name;
    EXPECT_EQ(opencv_temp_files(temp.path().string()), before) << c.name << " left a temporary file";
  }
  // Valid ones go through the temporary file and remove it.
  const cv::Mat bgr8(3, 5, CV_8UC3, cv::Scalar(64, 128, 192));
  cv::Mat bgr32;
  bgr8.convertTo(bgr32, CV_32F, 1.0 / 255);
  for (const auto& bytes : {encode(bgr32, ".pfm"), encode(bgr8, ".sr"), encode(bgr32, ".hdr"), encode(bgr32, ".exr")}) {
    cv::Mat rgb;
    EXPECT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "valid", {}, rgb).ok()) << bytes[0];
    EXPECT_EQ(rgb.size(), cv::Size(5, 3));
    EXPECT_EQ(opencv_temp_files(temp.path().string()), 0) << bytes[0];
  }
}

TEST(BadInput, PixelLimitCanBeRaised) {
  TempDir dir;
  write_rgb(dir.file("a.png"), pattern_image(64, 48));
  DecodeOptions small;
  small.max_pixels = 64 * 48 - 1;
  expect_refused(dir.file("a.png"), "above the limit of 3071", small);
  small.max_pixels = 64 * 48;
  cv::Mat rgb;
  EXPECT_TRUE(DecodeImageFile(dir.file("a.png"), small, rgb).ok());
  DecodeOptions tiny_files;
  tiny_files.max_file_bytes = 10;
  expect_refused(dir.file("a.png"), "above the limit of 10", tiny_files);
}

// OpenCV's own size limits (read from the environment when the library is loaded, so this runs
// in a child process started with them) are reported as a clear reason, not an assertion text.
TEST(BadInput, DISABLED_OpenCvLimitInChildProcess) {
  ASSERT_NE(std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS"), nullptr) << "run by OpenCvLimitIsAClearError";
  TempDir dir;
  write_rgb(dir.file("a.png"), pattern_image(64, 48));
  expect_refused(dir.file("a.png"), "image has more pixels than OpenCV's decode limit of 1000");
  expect_refused(dir.file("a.png"), "OPENCV_IO_MAX_IMAGE_PIXELS in the environment");
  write_bytes(dir.file("b.bmp"), encode(bgr_pattern(), ".bmp"));
  expect_refused(dir.file("b.bmp"), "OpenCV's decode limit of 1000");
  // JPEG is decoded by libjpeg directly, held to the same environment limit.
  write_bytes(dir.file("c.jpg"), encode(bgr_pattern(), ".jpg"));
  expect_refused(dir.file("c.jpg"), "image has more pixels than OpenCV's decode limit of 1000");
}

TEST(BadInput, OpenCvLimitIsAClearError) {
  EXPECT_TRUE(passes_in_child("DISABLED_OpenCvLimitInChildProcess", "OPENCV_IO_MAX_IMAGE_PIXELS=1000"));
}

// A folder of good and bad files: the loader skips each bad one, reports it once, counts it.
TEST(BadInput, LoaderSkipsAndCountsBadFiles) {
  TempDir dir;
  for (int i = 0; i < 6; ++i) write_rgb(dir.file("a/good" + std::to_string(i) + ".png"), pattern_image(40, 30, i));
  for (int i = 0; i < 4; ++i) write_rgb(dir.file("b/good" + std::to_string(i) + ".jpg"), pattern_image(30, 40, i));
  write_bytes(dir.file("a/empty.png"), {});
  write_bytes(dir.file("a/trunc.jpg"), cut(encode(bgr_pattern(), ".jpg"), 0.6));
  const std::string text = "not an image";
  write_bytes(dir.file("b/text.jpg"), std::vector<std::uint8_t>(text.begin(), text.end()));
  fs::create_directories(dir.file("b/folder.jpg/inner"));
  fs::create_symlink(dir.file("b/missing.png"), dir.file("b/dangling.png"));
  write_bytes(dir.file("b/huge.png"), claim_size(encode(bgr_pattern(), ".png"), ".png", 100000, 100000));
  write_bytes(dir.file("b/notes.txt"), {'h', 'i'});  // not an image extension: ignored

  ImageFolderOptions fo;
  fo.root = dir.path().string();
  auto ds = ImageFolderDataset::Open(fo);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  EXPECT_EQ((*ds)->size(), 16u);
  EXPECT_EQ((*ds)->ignored_files(), 1u);
  (*ds)->skip_log().SetPrint(false);

  LoaderOptions lo;
  lo.batch_size = 5;
  lo.workers = 2;
  lo.preprocess = {36, 32, MeanMode::kNone};
  lo.augmentation.pca_color = false;
  lo.epochs = 2;
  auto loader = Loader::Create(*ds, lo);
  ASSERT_TRUE(loader.ok()) << loader.status().message();
  Batch b;
  int images = 0, skipped = 0;
  while ((*loader)->Next(b)) {
    images += b.size;
    skipped += b.skipped;
    EXPECT_EQ(b.images.size(), static_cast<std::size_t>(b.size) * 32 * 32 * 3);
  }
  EXPECT_TRUE((*loader)->status().ok()) << (*loader)->status().message();
  EXPECT_EQ(images, 2 * 10);
  // Batch::skipped misses only failures after the last batch handed out; the total is exact.
  EXPECT_LE(skipped, 2 * 6);
  EXPECT_EQ((*loader)->skipped_samples(), 2 * 6);
  const auto files = (*ds)->skip_log().files();
  ASSERT_EQ(files.size(), 6u);  // each bad file once, although met in both epochs
  std::map<std::string, std::string> reasons;
  for (const auto& f : files) reasons[fs::path(f.path).filename().string()] = f.reason;
  EXPECT_NE(reasons["empty.png"].find("empty"), std::string::npos);
  EXPECT_NE(reasons["trunc.jpg"].find("truncated"), std::string::npos);
  EXPECT_NE(reasons["text.jpg"].find("not an image"), std::string::npos);
  EXPECT_NE(reasons["folder.jpg"].find("directory"), std::string::npos);
  EXPECT_NE(reasons["dangling.png"].find("dangling"), std::string::npos);
  EXPECT_NE(reasons["huge.png"].find("limit"), std::string::npos);
}

TEST(BadInput, DatasetWithoutAnyValidImage) {
  TempDir dir;
  write_bytes(dir.file("a/x.jpg"), {});
  write_bytes(dir.file("b/y.png"), {1, 2, 3});
  ImageFolderOptions fo;
  fo.root = dir.path().string();
  auto ds = ImageFolderDataset::Open(fo);
  ASSERT_TRUE(ds.ok());
  (*ds)->skip_log().SetPrint(false);

  LoaderOptions lo;
  lo.batch_size = 1;
  lo.preprocess = {36, 32, MeanMode::kNone};
  lo.augmentation.pca_color = false;
  lo.epochs = 0;  // unbounded: must still stop
  auto loader = Loader::Create(*ds, lo);
  ASSERT_TRUE(loader.ok());
  Batch b;
  EXPECT_FALSE((*loader)->Next(b));
  EXPECT_NE((*loader)->status().reason().find("no valid image"), std::string::npos)
      << (*loader)->status().message();

  auto stats = ComputeColorStats(**ds, {});
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().reason().find("no image could be loaded"), std::string::npos);
  EXPECT_EQ(stats.status().code(), StatusCode::kBadInput);
}

TEST(BadInput, BrokenFolderStructureIsAnError) {
  TempDir dir;
  ImageFolderOptions fo;
  fo.root = dir.file("missing");
  auto r = ImageFolderDataset::Open(fo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), dir.file("missing") + ": no such directory");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);

  write_bytes(dir.file("file.txt"), {'x'});
  fo.root = dir.file("file.txt");
  r = ImageFolderDataset::Open(fo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "not a directory");

  write_rgb(dir.file("flat/a.png"), pattern_image(8, 8));
  fo.root = dir.file("flat");
  r = ImageFolderDataset::Open(fo);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().reason().find("no class sub-folders"), std::string::npos);
  EXPECT_NE(r.status().reason().find("found 1 image files directly"), std::string::npos);

  write_rgb(dir.file("classes/cat/a.png"), pattern_image(8, 8));
  write_bytes(dir.file("classes/dog/readme.txt"), {'x'});
  fo.root = dir.file("classes");
  r = ImageFolderDataset::Open(fo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().path(), dir.file("classes/dog"));
  EXPECT_NE(r.status().reason().find("contains no image files"), std::string::npos);
}

}  // namespace
}  // namespace alexnet::data
