// fuzz_make_seeds OUT_DIR: writes the seed corpora OUT_DIR/<target>/ with the tests' own file
// makers (tests/data/test_util.h) and the run files of tests/train/testdata. The output is
// committed as fuzz/corpus; rerun when a format changes:
//   build-fuzz/fuzz/fuzz_make_seeds fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/color_stats.h"
#include "test_util.h"
#include "train/config.h"
#include "train/train_state.h"

namespace {
namespace fs = std::filesystem;
using alexnet::data::testing::encode;
using alexnet::data::testing::exif_tiff_block;
using alexnet::data::testing::gzip;
using alexnet::data::testing::pattern_image;
using alexnet::data::testing::with_exif_orientation;
using alexnet::data::testing::with_png_chunk;
using alexnet::data::testing::write_bytes;

std::vector<std::uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The idx layout of tests/data/idx_test.cpp: magic, big-endian dimensions, the values.
std::vector<std::uint8_t> IdxBytes(std::uint8_t type, std::size_t elem, const std::vector<std::uint32_t>& dims) {
  std::vector<std::uint8_t> b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  std::size_t count = 1;
  for (auto d : dims) {
    count *= d;
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  }
  for (std::size_t i = 0; i < count * elem; ++i) b.push_back(static_cast<std::uint8_t>(i * 37));
  return b;
}

void Images(const fs::path& dir) {
  const cv::Mat bgr = pattern_image(8, 6, 3);
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp", ".ppm", ".pam", ".sr"}) {
    write_bytes((dir / (std::string("rgb") + ext)).string(), encode(bgr, ext));
  }
  // OpenJPEG refuses to write an image smaller than its default resolution levels allow.
  write_bytes((dir / "rgb.jp2").string(), encode(pattern_image(32, 32, 3), ".jp2"));
  write_bytes((dir / "progressive.jpg").string(), encode(bgr, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  const cv::Mat grey(5, 7, CV_8UC1, cv::Scalar(77));
  for (const char* ext : {".png", ".pgm", ".jpg"}) {
    write_bytes((dir / (std::string("grey") + ext)).string(), encode(grey, ext));
  }
  write_bytes((dir / "pbm.pbm").string(), encode(grey, ".pbm"));
  const cv::Mat bgra(4, 5, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  write_bytes((dir / "alpha.png").string(), encode(bgra, ".png"));
  const cv::Mat bgr16(4, 4, CV_16UC3, cv::Scalar(0, 1000, 65535));
  write_bytes((dir / "rgb16.png").string(), encode(bgr16, ".png"));
  write_bytes((dir / "rgb16.tiff").string(), encode(bgr16, ".tiff"));
  const cv::Mat f32(4, 6, CV_32FC3, cv::Scalar(0.25, 0.5, 2.0));
  for (const char* ext : {".pfm", ".hdr", ".exr"}) {
    write_bytes((dir / (std::string("float") + ext)).string(), encode(f32, ext));
  }
  write_bytes((dir / "exif6.jpg").string(), with_exif_orientation(encode(bgr, ".jpg"), 6, true));
  write_bytes((dir / "exif8le.jpg").string(), with_exif_orientation(encode(bgr, ".jpg"), 8, false));
  write_bytes((dir / "exif3.png").string(), with_png_chunk(encode(bgr, ".png"), "eXIf", exif_tiff_block(3, true)));
}

void Idx(const fs::path& plain_and_gzip, const fs::path& plain_only) {
  struct Type {
    std::uint8_t code;
    std::size_t elem;
  };
  for (const Type t : {Type{0x08, 1}, Type{0x09, 1}, Type{0x0B, 2}, Type{0x0C, 4}, Type{0x0D, 4}, Type{0x0E, 8}}) {
    char name[16];
    std::snprintf(name, sizeof name, "type%02x", t.code);
    const auto bytes = IdxBytes(t.code, t.elem, t.code == 0x08 ? std::vector<std::uint32_t>{2, 3, 4}
                                                               : std::vector<std::uint32_t>{3});
    write_bytes((plain_and_gzip / name).string(), bytes);
    write_bytes((plain_and_gzip / (std::string(name) + ".gz")).string(), gzip(bytes));
    write_bytes((plain_only / name).string(), bytes);
  }
}

void ListFiles(const fs::path& dir) {
  write_bytes((dir / "integer").string(), Bytes("a/0.png 0\nb/1.png 1\n\n# comment\nc/2.png 2\nd/3.png 1\n"));
  write_bytes((dir / "named").string(), Bytes("cat one.jpg cat\n/abs/dog.png\tdog\r\n  spaced name.bmp  cat  \n"));
}

void ColorStats(const fs::path& dir) {
  alexnet::data::ColorStats s;
  s.size = 2;
  s.images = 3;
  s.source = "seed";
  s.mean_rgb = {120.5, 110.25, 100};
  s.covariance = {{{0.05, 0.01, 0.0}, {0.01, 0.04, 0.01}, {0.0, 0.01, 0.03}}};
  alexnet::data::ComputePrincipalComponents(s);
  write_bytes((dir / "no_mean_image.json").string(), Bytes(ColorStatsToJson(s).dump()));
  s.mean_image.assign(2 * 2 * 3, 100.5f);
  write_bytes((dir / "mean_image.json").string(), Bytes(ColorStatsToJson(s).dump(1)));
}

void RunFiles(const fs::path& config_dir, const fs::path& state_dir) {
  const fs::path v1 = fs::path(ALEXNET_SOURCE_DIR) / "tests/train/testdata/v1";
  write_bytes((config_dir / "v1.json").string(), Bytes(ReadText(v1 / "config.json")));
  write_bytes((config_dir / "defaults.json").string(), Bytes(ToJson(alexnet::train::TrainConfig{}).dump()));
  write_bytes((state_dir / "v1.json").string(), Bytes(ReadText(v1 / "state.json")));
  write_bytes((state_dir / "defaults.json").string(), Bytes(ToJson(alexnet::train::TrainState{}).dump()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"fuzz_decode_image", "fuzz_idx", "fuzz_idx_gzip", "fuzz_list_file", "fuzz_color_stats",
                        "fuzz_config", "fuzz_state"}) {
    fs::create_directories(out / t);
  }
  Images(out / "fuzz_decode_image");
  Idx(out / "fuzz_idx", out / "fuzz_idx_gzip");
  ListFiles(out / "fuzz_list_file");
  ColorStats(out / "fuzz_color_stats");
  RunFiles(out / "fuzz_config", out / "fuzz_state");
  return 0;
}
