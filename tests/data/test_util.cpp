#include "test_util.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace alexnet::data::testing {
namespace fs = std::filesystem;
namespace {

// resize + memcpy instead of vector::insert, which trips a GCC 12 -Wstringop-overflow false
// positive.
void append(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t n) {
  const std::size_t old = out.size();
  out.resize(old + n);
  if (n) std::memcpy(out.data() + old, data, n);
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "alexnet-data-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Restore permissions a test may have removed, so everything can be deleted.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_symlink()) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> encode(const cv::Mat& image, const std::string& ext,
                                 const std::vector<int>& params) {
  std::vector<std::uint8_t> out;
  if (!cv::imencode(ext, image, out, params)) throw std::runtime_error("imencode failed: " + ext);
  return out;
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

StderrCapture::StderrCapture() {
  std::fflush(stderr);
  file_ = std::tmpfile();
  saved_fd_ = ::dup(2);
  if (!file_ || saved_fd_ < 0 || ::dup2(::fileno(file_), 2) < 0) throw std::runtime_error("cannot capture stderr");
}

StderrCapture::~StderrCapture() {
  if (file_) finish();
}

std::string StderrCapture::finish() {
  std::fflush(stderr);
  ::dup2(saved_fd_, 2);
  ::close(saved_fd_);
  std::string text;
  std::rewind(file_);
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file_)) > 0) text.append(buffer, n);
  std::fclose(file_);
  file_ = nullptr;
  return text;
}

void write_rgb(const std::string& path, const cv::Mat& rgb, const std::vector<int>& params) {
  fs::create_directories(fs::path(path).parent_path());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imwrite(path, bgr, params)) throw std::runtime_error("imwrite failed: " + path);
}

cv::Mat coordinate_image(int width, int height) {
  cv::Mat m(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y % 256, 7);
  return m;
}

cv::Mat pattern_image(int width, int height, int seed) {
  cv::Mat m(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b((x * 3 + seed * 17) % 256, (y * 5 + seed * 29) % 256,
                                        ((x + y) * 2 + seed * 41) % 256);
  return m;
}

std::vector<std::uint8_t> exif_tiff_block(int orientation, bool big_endian) {
  std::vector<std::uint8_t> t;
  auto u16 = [&](unsigned v) {
    if (big_endian) { t.push_back(v >> 8); t.push_back(v & 255); }
    else { t.push_back(v & 255); t.push_back(v >> 8); }
  };
  auto u32 = [&](unsigned v) {
    if (big_endian) { u16(v >> 16); u16(v & 0xffff); }
    else { u16(v & 0xffff); u16(v >> 16); }
  };
  t.push_back(big_endian ? 'M' : 'I');
  t.push_back(big_endian ? 'M' : 'I');
  u16(42);
  u32(8);        // IFD0 offset
  u16(1);        // one entry
  u16(0x0112);   // Orientation
  u16(3);        // SHORT
  u32(1);        // count
  u16(static_cast<unsigned>(orientation));
  u16(0);
  u32(0);  // no next IFD
  return t;
}

std::vector<std::uint8_t> with_exif_orientation(const std::vector<std::uint8_t>& jpeg,
                                                int orientation, bool big_endian) {
  const auto tiff = exif_tiff_block(orientation, big_endian);
  std::vector<std::uint8_t> seg = {0xFF, 0xE1};
  const std::size_t len = 2 + 6 + tiff.size();
  seg.push_back(static_cast<std::uint8_t>(len >> 8));
  seg.push_back(static_cast<std::uint8_t>(len & 255));
  const std::uint8_t exif[6] = {'E', 'x', 'i', 'f', 0, 0};
  append(seg, exif, 6);
  append(seg, tiff.data(), tiff.size());
  std::vector<std::uint8_t> out;
  append(out, jpeg.data(), 2);  // SOI
  append(out, seg.data(), seg.size());
  append(out, jpeg.data() + 2, jpeg.size() - 2);
  return out;
}

std::vector<std::uint8_t> with_png_chunk(const std::vector<std::uint8_t>& png,
                                         const std::string& type,
                                         const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> chunk;
  const std::uint32_t len = static_cast<std::uint32_t>(data.size());
  for (int s = 24; s >= 0; s -= 8) chunk.push_back(static_cast<std::uint8_t>(len >> s));
  append(chunk, reinterpret_cast<const std::uint8_t*>(type.data()), 4);
  append(chunk, data.data(), data.size());
  const std::uint32_t crc =
      static_cast<std::uint32_t>(crc32(0, chunk.data() + 4, static_cast<uInt>(4 + data.size())));
  for (int s = 24; s >= 0; s -= 8) chunk.push_back(static_cast<std::uint8_t>(crc >> s));
  const std::size_t after_ihdr = 8 + 25;
  std::vector<std::uint8_t> out;
  append(out, png.data(), after_ihdr);
  append(out, chunk.data(), chunk.size());
  append(out, png.data() + after_ihdr, png.size() - after_ihdr);
  return out;
}

MemoryDataset::MemoryDataset(std::vector<cv::Mat> images, std::vector<int> labels, int classes)
    : images_(std::move(images)), labels_(std::move(labels)) {
  for (int c = 0; c < classes; ++c) names_.push_back("class" + std::to_string(c));
}

Status MemoryDataset::LoadInto(std::size_t i, cv::Mat& rgb) const {
  ++loads;
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  if (failing.count(i)) return Status::BadInput(name(i), "made to fail by the test");
  images_[i].copyTo(rgb);
  return Status::Ok();
}

std::shared_ptr<MemoryDataset> make_memory_dataset(int n, int width, int height, int classes) {
  std::vector<cv::Mat> images;
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    images.push_back(pattern_image(width, height, i));
    labels.push_back(i % classes);
  }
  return std::make_shared<MemoryDataset>(std::move(images), std::move(labels), classes);
}

}  // namespace alexnet::data::testing
