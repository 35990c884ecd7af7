// JPEG through libjpeg directly (jpeg_decode.h): pixels identical to cv::imdecode's; a damaged
// JPEG (corrupt entropy-coded data) decodes with libjpeg's warning captured, nothing printed by
// libjpeg, reported once per file with its path by the dataset's SkipLog, or refused and
// counted under strict_jpeg.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#ifdef ALEXNET_TEST_HAVE_LIBJPEG
#include <cstdio>
#include <jpeglib.h>
#endif

#include "data/decode.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;
namespace fs = std::filesystem;

constexpr const char* kHitMarker = "Corrupt JPEG data: premature end of data segment";

std::vector<std::uint8_t> clean_jpeg(int width = 96, int height = 64, const std::vector<int>& params = {}) {
  cv::Mat bgr;
  cv::cvtColor(pattern_image(width, height, 3), bgr, cv::COLOR_RGB2BGR);
  return encode(bgr, ".jpg", params);
}

// The JPEG with a marker (FF D9) written over two bytes in the middle of its entropy-coded data,
// as a transmission error or a bad sector would leave it: libjpeg's Huffman decoder meets the
// marker before the data ends ("premature end of data segment"), fills the rest of the image
// and still decodes. The file keeps its real end-of-image marker, so it is not "truncated".
std::vector<std::uint8_t> damage(std::vector<std::uint8_t> jpeg) {
  std::size_t scan = 0;
  for (std::size_t i = 2; i + 3 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) {
      scan = i + 2 + ((std::size_t{jpeg[i + 2]} << 8) | jpeg[i + 3]);
      break;
    }
  }
  EXPECT_GT(scan, 0u) << "no start of scan";
  const std::size_t middle = scan + (jpeg.size() - 2 - scan) / 2;
  jpeg[middle] = 0xFF;
  jpeg[middle + 1] = 0xD9;
  return jpeg;
}

// What the pipeline produced before it called libjpeg itself: cv::imdecode, then to RGB8.
cv::Mat opencv_rgb(const std::vector<std::uint8_t>& bytes) {
  const cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  EXPECT_FALSE(decoded.empty());
  cv::Mat rgb;
  ToRgb8(decoded, {255, 255, 255}, rgb);
  return rgb;
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

#ifdef ALEXNET_TEST_HAVE_LIBJPEG
// A JPEG written by libjpeg itself: CMYK (Adobe, inverted, as Photoshop writes it) or YCbCr
// with the given luma sampling factors (2x2 = 4:2:0, 2x1 = 4:2:2, 1x1 = 4:4:4), which
// cv::imencode cannot choose.
std::vector<std::uint8_t> libjpeg_jpeg(int width, int height, bool cmyk, int h_samp = 2, int v_samp = 2) {
  jpeg_compress_struct ci;
  jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  jpeg_mem_dest(&ci, &out, &out_size);
  ci.image_width = static_cast<JDIMENSION>(width);
  ci.image_height = static_cast<JDIMENSION>(height);
  ci.input_components = cmyk ? 4 : 3;
  ci.in_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 90, TRUE);
  if (!cmyk) {
    ci.comp_info[0].h_samp_factor = h_samp;
    ci.comp_info[0].v_samp_factor = v_samp;
  }
  jpeg_start_compress(&ci, TRUE);
  const cv::Mat rgb = pattern_image(width, height, 5);
  std::vector<unsigned char> row(static_cast<std::size_t>(width) * 4);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
      for (int c = 0; c < (cmyk ? 4 : 3); ++c) {
        row[static_cast<std::size_t>(x * (cmyk ? 4 : 3) + c)] = static_cast<unsigned char>(c < 3 ? p[c] : 200 - y % 50);
      }
    }
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&ci, &r, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  std::vector<std::uint8_t> bytes(out, out + out_size);
  std::free(out);
  return bytes;
}
#endif

// Every kind of clean JPEG gives exactly cv::imdecode's pixels (same library, same settings:
// islow IDCT, fancy upsampling), so the pipeline's output does not change.
TEST(JpegDecode, CleanJpegIsExactlyWhatOpenCvDecodes) {
  cv::Mat grey_pattern;
  cv::cvtColor(pattern_image(41, 29, 7), grey_pattern, cv::COLOR_RGB2GRAY);
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> cases = {
      {"baseline q95", clean_jpeg(96, 64, {cv::IMWRITE_JPEG_QUALITY, 95})},
      {"baseline q40", clean_jpeg(96, 64, {cv::IMWRITE_JPEG_QUALITY, 40})},
      {"progressive", clean_jpeg(96, 64, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
      {"optimized", clean_jpeg(96, 64, {cv::IMWRITE_JPEG_OPTIMIZE, 1})},
      {"odd size", clean_jpeg(37, 23)},
      {"restart intervals", clean_jpeg(96, 64, {cv::IMWRITE_JPEG_RST_INTERVAL, 2})},
      {"grey", encode(grey_pattern, ".jpg")},
      {"exif orientation 6", with_exif_orientation(clean_jpeg(40, 30), 6, false)},
  };
#ifdef ALEXNET_TEST_HAVE_LIBJPEG
  cases.push_back({"cmyk", libjpeg_jpeg(33, 21, true)});
  cases.push_back({"4:4:4", libjpeg_jpeg(33, 21, false, 1, 1)});
  cases.push_back({"4:2:2", libjpeg_jpeg(33, 21, false, 2, 1)});
  cases.push_back({"4:4:0", libjpeg_jpeg(33, 21, false, 1, 2)});
#endif
  for (const auto& [what, bytes] : cases) {
    DecodeOptions no_rotation;
    no_rotation.apply_exif_orientation = false;  // imdecode(IMREAD_UNCHANGED) does not rotate
    cv::Mat rgb;
    DecodeWarnings warnings;
    StderrCapture err;
    const Status st = DecodeImageBytes(bytes.data(), bytes.size(), what, no_rotation, rgb, &warnings);
    EXPECT_EQ(err.finish(), "") << what;
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_FALSE(warnings.any()) << what << ": " << warnings.summary();
    EXPECT_EQ(rgb.type(), CV_8UC3) << what;
    EXPECT_TRUE(identical(rgb, opencv_rgb(bytes))) << what << ": differs from cv::imdecode";
  }
}

TEST(JpegDecode, ExifOrientationIsStillApplied) {
  const auto bytes = with_exif_orientation(clean_jpeg(40, 30), 6, true);
  cv::Mat rgb;
  ASSERT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "turned", {}, rgb).ok());
  cv::Mat expected = opencv_rgb(bytes);
  cv::rotate(expected, expected, cv::ROTATE_90_CLOCKWISE);
  EXPECT_TRUE(identical(rgb, expected));
}

// The issue: libjpeg warns, the image decodes, nothing reaches stderr, the warning is returned.
TEST(JpegDecode, DamagedJpegDecodesWithTheWarningCapturedAndNothingPrinted) {
  const auto bytes = damage(clean_jpeg(128, 96));
  cv::Mat rgb;
  DecodeWarnings warnings;
  StderrCapture err;
  const Status st = DecodeImageBytes(bytes.data(), bytes.size(), "damaged.jpg", {}, rgb, &warnings);
  EXPECT_EQ(err.finish(), "");
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(warnings.any()) << "libjpeg did not warn about the damaged data";
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_EQ(warnings.messages[0], kHitMarker);
  EXPECT_EQ(warnings.summary(), std::string("damaged JPEG (") + kHitMarker + ")");
  // Without a DecodeWarnings it still decodes silently.
  StderrCapture err2;
  EXPECT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "damaged.jpg", {}, rgb).ok());
  EXPECT_EQ(err2.finish(), "");
}

// The damaged image is the one OpenCV made of it (which printed libjpeg's warning without a
// path: the behaviour the issue reports).
TEST(JpegDecode, DamagedJpegGivesOpenCvsPixels) {
  const auto bytes = damage(clean_jpeg(128, 96));
  cv::Mat expected;
  {
    StderrCapture err;
    expected = opencv_rgb(bytes);
    EXPECT_NE(err.finish().find(kHitMarker), std::string::npos) << "OpenCV no longer prints libjpeg's warning?";
  }
  cv::Mat rgb;
  ASSERT_TRUE(DecodeImageBytes(bytes.data(), bytes.size(), "damaged.jpg", {}, rgb).ok());
  EXPECT_TRUE(identical(rgb, expected));
}

TEST(JpegDecode, StrictRefusesADamagedJpegWithTheWarning) {
  TempDir dir;
  write_bytes(dir.file("damaged.jpg"), damage(clean_jpeg()));
  write_bytes(dir.file("clean.jpg"), clean_jpeg());
  DecodeOptions strict;
  strict.strict_jpeg = true;
  cv::Mat rgb;
  StderrCapture err;
  const Status st = DecodeImageFile(dir.file("damaged.jpg"), strict, rgb);
  const Status clean = DecodeImageFile(dir.file("clean.jpg"), strict, rgb);
  EXPECT_EQ(err.finish(), "");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.path(), dir.file("damaged.jpg"));
  EXPECT_EQ(st.reason(), std::string("damaged JPEG (") + kHitMarker + "); refused (strict JPEG decoding)");
  EXPECT_TRUE(clean.ok()) << clean.message();
}

TEST(JpegDecode, TruncatedAndUnsupportedJpegAreErrorsWithoutPrinting) {
  TempDir dir;
  auto bytes = clean_jpeg(96, 64, {cv::IMWRITE_JPEG_QUALITY, 95});
  write_bytes(dir.file("cut.jpg"), std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + bytes.size() * 7 / 10));
  // 12-bit precision in the frame header (SOF0: FF C0 len(2) precision(1)): this libjpeg
  // build reads 8-bit only, so libjpeg's error_exit is taken and must become a Status.
  for (std::size_t i = 2; i + 4 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
      bytes[i + 4] = 12;
      break;
    }
  }
  write_bytes(dir.file("twelve.jpg"), bytes);
  cv::Mat rgb;
  DecodeWarnings warnings;
  StderrCapture err;
  const Status cut = DecodeImageFile(dir.file("cut.jpg"), {}, rgb, &warnings);
  const Status twelve = DecodeImageFile(dir.file("twelve.jpg"), {}, rgb, &warnings);
  EXPECT_EQ(err.finish(), "");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.path(), dir.file("cut.jpg"));
  EXPECT_NE(cut.reason().find("truncated JPEG"), std::string::npos) << cut.reason();
  ASSERT_FALSE(twelve.ok());
  EXPECT_EQ(twelve.path(), dir.file("twelve.jpg"));
  EXPECT_EQ(twelve.reason(), "corrupt or unsupported JPEG data (libjpeg: Unsupported JPEG data precision 12)");
}

// A folder holding one damaged JPEG among good ones, read for two epochs by a Loader.
struct DamagedFolder {
  TempDir dir;
  std::string damaged;
  DamagedFolder() {
    for (int i = 0; i < 5; ++i) write_rgb(dir.file("a/good" + std::to_string(i) + ".jpg"), pattern_image(40, 30, i));
    damaged = dir.file("b/damaged.jpg");
    write_bytes(damaged, damage(clean_jpeg()));
    write_rgb(dir.file("b/good.png"), pattern_image(40, 30, 9));
  }
  // Runs two epochs; returns the number of images handed out.
  int run(const std::shared_ptr<ImageFolderDataset>& ds, std::int64_t& skipped_samples) {
    LoaderOptions lo;
    lo.batch_size = 3;
    lo.workers = 2;
    lo.preprocess = {36, 32, MeanMode::kNone};
    lo.augmentation.pca_color = false;
    lo.epochs = 2;
    auto loader = Loader::Create(ds, lo);
    EXPECT_TRUE(loader.ok()) << loader.status().message();
    if (!loader.ok()) return -1;
    Batch b;
    int images = 0;
    while ((*loader)->Next(b)) images += b.size;
    EXPECT_TRUE((*loader)->status().ok()) << (*loader)->status().message();
    skipped_samples = (*loader)->skipped_samples();
    return images;
  }
};

TEST(JpegDecode, DamagedJpegIsUsedAndReportedOnceAcrossEpochs) {
  DamagedFolder folder;
  ImageFolderOptions fo;
  fo.root = folder.dir.path().string();
  auto ds = ImageFolderDataset::Open(fo);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ((*ds)->size(), 7u);
  std::int64_t skipped = -1;
  StderrCapture err;
  const int images = folder.run(*ds, skipped);  // the loader (and its threads) are gone after
  const std::string printed = err.finish();
  EXPECT_EQ(images, 2 * 7);
  EXPECT_EQ(skipped, 0);
  EXPECT_EQ((*ds)->skip_log().count(), 0u);
  const std::string line = "alexnet: " + folder.damaged + ": damaged JPEG (" + kHitMarker + "); used anyway";
  EXPECT_EQ(printed, line + "\n") << "one line, with the path, and nothing from libjpeg";
  const auto warned = (*ds)->skip_log().warnings();
  ASSERT_EQ(warned.size(), 1u);
  EXPECT_EQ((*ds)->skip_log().warning_count(), 1u);
  EXPECT_EQ(warned[0].path, folder.damaged);
  EXPECT_EQ(warned[0].reason, std::string("damaged JPEG (") + kHitMarker + "); used anyway");
}

TEST(JpegDecode, StrictDatasetSkipsAndCountsTheDamagedJpeg) {
  DamagedFolder folder;
  ImageFolderOptions fo;
  fo.root = folder.dir.path().string();
  fo.decode.strict_jpeg = true;
  auto ds = ImageFolderDataset::Open(fo);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  std::int64_t skipped = -1;
  StderrCapture err;
  const int images = folder.run(*ds, skipped);
  const std::string printed = err.finish();
  EXPECT_EQ(images, 2 * 6);
  EXPECT_EQ(skipped, 2);  // met in both epochs
  const std::string reason = std::string("damaged JPEG (") + kHitMarker + "); refused (strict JPEG decoding)";
  EXPECT_EQ(printed, "alexnet: skipping " + folder.damaged + ": " + reason + "\n");
  const auto files = (*ds)->skip_log().files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, folder.damaged);
  EXPECT_EQ(files[0].reason, reason);
  EXPECT_EQ((*ds)->skip_log().warning_count(), 0u);
}

}  // namespace
}  // namespace alexnet::data
