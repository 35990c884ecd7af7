// Inputs the fuzz targets (fuzz/) found a bug with, each kept in tests/data/regressions/ and
// fed to the same entry point as the target that found it. See docs/reliability.md.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <string>

#include "data/color_stats.h"
#include "data/decode.h"
#include "data/image_header.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using testing::read_bytes;

std::string regression(const std::string& name) { return std::string(ALEXNET_REGRESSIONS_DIR) + "/" + name; }

// fuzz_list_file: one line "8888\0\0\0\08\t8888888" made 8,888,889 class names (a timeout under ASan,
// hundreds of MB) before any check; an integer label above 999,999 is now refused with its line.
TEST(FuzzRegression, ListFileWithAHugeIntegerLabel) {
  ImageFolderOptions o;
  o.list_file = regression("list_file_label_8888888.txt");
  const auto ds = ImageFolderDataset::Open(o);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().path(), o.list_file + ":1");
  EXPECT_NE(ds.status().reason().find("label 8888888 is too large"), std::string::npos) << ds.status().reason();
}

// fuzz_list_file again: a label of 888888 (under the limit) still took 10 s under ASan, in a
// name -> index map built for every class although integer labels never use it.
TEST(FuzzRegression, ListFileWithALargeIntegerLabelOpensQuickly) {
  ImageFolderOptions o;
  o.list_file = regression("list_file_label_888888.txt");
  o.split.val_fraction = 0.25;  // as the fuzz target
  const auto start = std::chrono::steady_clock::now();
  const auto ds = ImageFolderDataset::Open(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  EXPECT_EQ((*ds)->class_names().size(), 888889u);
  EXPECT_EQ((*ds)->size(), 1u);
  EXPECT_LT(seconds, 5.0);  // about 0.1 s in a release build
}

// fuzz_decode_image: 135 bytes, a damaged JPEG 2000 signature and "DICM" at offset 128. OpenCV
// passed it to GDCM, which assert()ed and aborted the process; DICOM is now refused first.
TEST(FuzzRegression, DicomMagicIsRefusedBeforeGdcmAborts) {
  const std::vector<std::uint8_t> bytes = read_bytes(regression("decode_dicm_at_128_gdcm_abort.bin"));
  ASSERT_EQ(bytes.size(), 135u);
  cv::Mat rgb;
  const Status status = DecodeImageBytes(bytes.data(), bytes.size(), "dicm", DecodeOptions{}, rgb);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.reason().find("DICOM files are not supported"), std::string::npos) << status.reason();
}

// fuzz_decode_image again: the same trap behind an intact JPEG 2000 signature (which the first
// check let through to OpenCV, as it only looked at files of no known format).
TEST(FuzzRegression, DicomMagicBehindAJpeg2000SignatureIsRefusedToo) {
  const std::vector<std::uint8_t> bytes = read_bytes(regression("decode_jp2_signature_dicm_at_128_gdcm_abort.bin"));
  ASSERT_EQ(bytes.size(), 135u);
  ASSERT_EQ(ProbeImageHeader(bytes.data(), bytes.size()).format, ImageFormat::kJpeg2000);
  cv::Mat rgb;
  const Status status = DecodeImageBytes(bytes.data(), bytes.size(), "jp2-dicm", DecodeOptions{}, rgb);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.reason().find("DICOM files are not supported"), std::string::npos) << status.reason();
}

// fuzz_decode_image under ASan: a VP8X WebP whose last chunk has an odd length. The chunk walk
// stepped one byte past the RIFF end, `riff_end - pos` wrapped and it read past the buffer.
// Without ASan the read may go unnoticed: the input is also a seed of fuzz_decode_image, so the
// CI smoke run replays it under ASan.
TEST(FuzzRegression, WebpChunkWalkStopsAtTheRiffEnd) {
  const std::vector<std::uint8_t> bytes = read_bytes(regression("webp_vp8x_odd_last_chunk.webp"));
  const ImageHeader header = ProbeImageHeader(bytes.data(), bytes.size());
  EXPECT_EQ(header.format, ImageFormat::kWebp);
  cv::Mat rgb;
  (void)DecodeImageBytes(bytes.data(), bytes.size(), "webp", DecodeOptions{}, rgb);  // must not crash
}

// Peak resident memory of this process so far (CTest runs each test in its own process).
long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// fuzz_idx: an 11-byte int8 file declaring 0xfb000003 values (4.2 GB, under the 4 GiB
// max_bytes) allocated and zeroed all of it before finding the data missing; the buffer now
// grows with the data read.
TEST(FuzzRegression, TruncatedIdxDeclaringGigabytesAllocatesLittle) {
  const std::string path = regression("idx_declares_4gb.idx");
  const auto a = ReadIdx(path);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().path(), path);
  EXPECT_NE(a.status().reason().find("truncated idx file: header declares 4211081219 bytes of data, found 3"),
            std::string::npos)
      << a.status().reason();
  EXPECT_LT(peak_rss_mb(), 1024);
}

// fuzz_color_stats: a color_stats.json whose (second) "format" is the number 3 let
// nlohmann's type_error escape LoadColorStats (std::terminate) instead of returning an error.
TEST(FuzzRegression, ColorStatsFormatThatIsNotAString) {
  const std::string path = regression("color_stats_format_is_a_number.json");
  const auto stats = LoadColorStats(path);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().path(), path);
  EXPECT_NE(stats.status().reason().find("\"format\" is not \"alexnet-color-stats\""), std::string::npos)
      << stats.status().reason();
}

// Found by reading after fuzz_state found nlohmann's undefined float-to-integer cast: the same
// cast in color_stats.json ("size": 1e300); a float where the file has an integer is an error.
TEST(FuzzRegression, ColorStatsWithAFloatSize) {
  const std::string path = regression("color_stats_size_1e300.json");
  const auto stats = LoadColorStats(path);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().path(), path);
  EXPECT_NE(stats.status().reason().find("\"size\" must be an integer, not 1e+300"), std::string::npos)
      << stats.status().reason();
}

// An integer too large for its field would wrap ({"size": 2^32 + 64} read as 64): refused.
TEST(FuzzRegression, ColorStatsWithASizeThatWraps) {
  ColorStats written;
  written.size = 64;
  written.images = 1;
  nlohmann::json j = ColorStatsToJson(written);
  j["size"] = (int64_t(1) << 32) + 64;
  const auto stats = ColorStatsFromJson(j, "color_stats.json");
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().reason().find("\"size\" is out of range: 4294967360"), std::string::npos)
      << stats.status().reason();
  j["size"] = 64;
  EXPECT_TRUE(ColorStatsFromJson(j, "color_stats.json").ok());
}

}  // namespace
}  // namespace alexnet::data
