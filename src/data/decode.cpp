#include "data/decode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/image_header.h"
#include "data/jpeg_decode.h"

namespace alexnet::data {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The first bytes of a file that is not an image often say what it is (HTML, text, a zip).
std::string FirstBytes(const std::uint8_t* d, std::size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string hex, text;
  bool printable = true;
  for (std::size_t i = 0; i < n && i < 8; ++i) {
    if (!hex.empty()) hex += ' ';
    hex += kHex[d[i] >> 4];
    hex += kHex[d[i] & 15];
    const char c = static_cast<char>(d[i]);
    if (c >= 32 && c < 127) text += c;
    else if (c == '\n' || c == '\r' || c == '\t') text += ' ';
    else printable = false;
  }
  return printable ? "starts with \"" + text + "\"" : "first bytes " + hex;
}

// OpenCV 4.6 decodes to BGR(A); alpha is composited over the background, then we go to RGB.
void CompositeAlpha(const cv::Mat& bgra8, const std::array<std::uint8_t, 3>& bg_rgb,
                     cv::Mat& rgb) {
  rgb.create(bgra8.rows, bgra8.cols, CV_8UC3);
  const int bg[3] = {bg_rgb[0], bg_rgb[1], bg_rgb[2]};
  for (int y = 0; y < bgra8.rows; ++y) {
    const std::uint8_t* s = bgra8.ptr<std::uint8_t>(y);
    std::uint8_t* o = rgb.ptr<std::uint8_t>(y);
    for (int x = 0; x < bgra8.cols; ++x, s += 4, o += 3) {
      const int a = s[3];
      for (int c = 0; c < 3; ++c) {  // out R = src[2] (BGR order in), etc.
        o[c] = static_cast<std::uint8_t>((s[2 - c] * a + bg[c] * (255 - a) + 127) / 255);
      }
    }
  }
}

// OpenCV 4.6 refuses an image whose header declares a size above its limits with a failed
// CV_Assert in validateInputImageSize, before allocating; the assertion text names the check
// but not the size. The limits come from the environment, read when libopencv_imgcodecs is
// loaded (before main), so they cannot be changed from inside the program.
std::string OpencvLimitReason(const std::string& failed_check) {
  struct Limit {
    const char* check;  // in the assertion text
    const char* variable;
    const char* what;
    const char* default_value;
  };
  static const Limit kLimits[] = {
      {"CV_IO_MAX_IMAGE_WIDTH", "OPENCV_IO_MAX_IMAGE_WIDTH", "is wider than", "1048576 pixels"},
      {"CV_IO_MAX_IMAGE_HEIGHT", "OPENCV_IO_MAX_IMAGE_HEIGHT", "is taller than", "1048576 pixels"},
      {"CV_IO_MAX_IMAGE_PIXELS", "OPENCV_IO_MAX_IMAGE_PIXELS", "has more pixels than", "1073741824"},
  };
  for (const Limit& l : kLimits) {
    if (failed_check.find(l.check) == std::string::npos) continue;
    const char* set = std::getenv(l.variable);
    // The variable is named with how to change it: a dataset's max_pixels does not move it.
    return std::string("image ") + l.what + " OpenCV's decode limit of " + (set ? set : l.default_value) + " (" +
           l.variable + (set ? " in the environment" : " not set: OpenCV's default") +
           "; set it higher before starting the program to accept the image; refused before decoding)";
  }
  return "image header declares an invalid size (OpenCV: " + failed_check + "; refused before decoding)";
}

// Closes a file descriptor when it goes out of scope, so every early return closes it.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Why open() failed with err; a dangling symbolic link names its missing target.
Status OpenError(const std::string& path, int err) {
  struct stat ls;
  if (err == ENOENT && ::lstat(path.c_str(), &ls) == 0 && S_ISLNK(ls.st_mode)) {
    char target[4096];
    const ssize_t len = ::readlink(path.c_str(), target, sizeof(target) - 1);
    const std::string to = len > 0 ? std::string(target, static_cast<std::size_t>(len)) : "?";
    return Status::NotFound(path, "dangling symbolic link (target '" + to + "' does not exist)");
  }
  if (err == EISDIR) return Status::BadInput(path, "is a directory, not an image file");
  return Status::Error(ErrnoCode(err), path, "cannot open: " + errno_text(err));
}

// The size of an open file that must be regular, non-empty and at most max_bytes.
Result<std::uint64_t> CheckedFileSize(int fd, const std::string& path, std::uint64_t max_bytes) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Io(path, "cannot stat: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return Status::BadInput(path, "is a directory, not an image file");
  if (!S_ISREG(st.st_mode)) return Status::BadInput(path, "not a regular file");
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) return Status::BadInput(path, "empty file (0 bytes)");
  if (size > max_bytes) {
    return Status::BadInput(path, "file is " + std::to_string(size) + " bytes, above the limit of " +
                                   std::to_string(max_bytes));
  }
  return size;
}

// Reads up to size bytes into bytes, which ends up shorter if the file shrank while we read it.
Status ReadUpTo(int fd, const std::string& path, std::uint64_t size, std::vector<std::uint8_t>& bytes) {
  bytes.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, bytes.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::Io(path, "read error: " + errno_text(errno));
    if (got == 0) break;  // shrank while we read it
    done += static_cast<std::size_t>(got);
  }
  bytes.resize(done);
  return Status::Ok();
}

// A header declaring more than max_pixels is refused before any pixel memory is allocated
// (width and height 0: not read, nothing to check).
Status CheckDeclaredSize(ImageFormat format, std::uint64_t width, std::uint64_t height, const std::string& name,
                         const DecodeOptions& options) {
  if (width == 0 || height == 0) return Status::Ok();
  const std::uint64_t pixels = width > UINT64_MAX / height ? UINT64_MAX : width * height;
  if (pixels <= options.max_pixels) return Status::Ok();
  return Status::BadInput(name, std::string(FormatName(format)) + " header declares " +
                                 std::to_string(width) + " x " + std::to_string(height) + " = " +
                                 std::to_string(pixels) + " pixels, above the limit of " +
                                 std::to_string(options.max_pixels) +
                                 " (refused before decoding; raise DecodeOptions::max_pixels to accept it)");
}

// One of OpenCV's size limits from the environment, parsed as OpenCV 4.6 does
// (utils::getConfigurationParameterSizeT: digits and an optional KB or MB suffix).
std::uint64_t OpenCvEnvLimit(const char* variable, std::uint64_t default_value) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value < '0' || *value > '9') return default_value;
  char* end = nullptr;
  const std::uint64_t n = std::strtoull(value, &end, 10);
  const std::string suffix(end);
  if (suffix.empty()) return n;
  if (suffix == "KB" || suffix == "Kb" || suffix == "kb") return n << 10;
  if (suffix == "MB" || suffix == "Mb" || suffix == "mb") return n << 20;
  return default_value;
}

// OpenCV's environment limits (validateInputImageSize, see decode.h) applied by us to a size we
// read, so that what OpenCV would refuse is still refused, with the same reason: JPEG never goes
// through cv::imdecode, and the formats whose size image_header.h reads are checked before it
// (OpenCV's own refusal of a PFM, Sun raster, HDR or EXR leaves a file in /tmp). 0 x 0 (not read): "".
std::string OpenCvLimitProblem(std::uint64_t width, std::uint64_t height) {
  if (width > OpenCvEnvLimit("OPENCV_IO_MAX_IMAGE_WIDTH", 1ULL << 20)) {
    return OpencvLimitReason("CV_IO_MAX_IMAGE_WIDTH");
  }
  if (height > OpenCvEnvLimit("OPENCV_IO_MAX_IMAGE_HEIGHT", 1ULL << 20)) {
    return OpencvLimitReason("CV_IO_MAX_IMAGE_HEIGHT");
  }
  if (width * height > OpenCvEnvLimit("OPENCV_IO_MAX_IMAGE_PIXELS", 1ULL << 30)) {
    return OpencvLimitReason("CV_IO_MAX_IMAGE_PIXELS");
  }
  return "";
}

// JPEG through libjpeg (jpeg_decode.h), held to max_pixels and OpenCV's limits on the header
// libjpeg reads; `orientation` from its EXIF. Corrupt-data warnings are returned in `warnings`,
// or refuse the file under strict_jpeg.
Status DecodeJpeg(const std::uint8_t* data, std::size_t size, const std::string& name, const DecodeOptions& options,
                  cv::Mat& rgb, DecodeWarnings& warnings, int& orientation) {
  const auto check = [&](const JpegHeader& header) {
    orientation = header.orientation;
    ALEXNET_RETURN_IF_ERROR(CheckDeclaredSize(ImageFormat::kJpeg, header.width, header.height, name, options));
    const std::string limit = OpenCvLimitProblem(header.width, header.height);  // both at most 65535
    return limit.empty() ? Status::Ok() : Status::BadInput(name, limit);
  };
  ALEXNET_RETURN_IF_ERROR(DecodeJpeg(data, size, name, check, rgb, warnings));
  if (options.strict_jpeg && warnings.any()) {
    return Status::BadInput(name, warnings.summary() + "; refused (strict JPEG decoding)");
  }
  return Status::Ok();
}

// Every other format through cv::imdecode, then to RGB8.
Status DecodeWithOpenCv(const std::uint8_t* data, std::size_t size, const std::string& name,
                        const ImageHeader& header, const DecodeOptions& options, cv::Mat& rgb) {
  cv::Mat decoded;
  try {
    // Why a Mat header over our bytes: imdecode then reads them in place, no copy.
    const cv::Mat buffer(1, static_cast<int>(size), CV_8UC1, const_cast<std::uint8_t*>(data));
    // IMREAD_UNCHANGED keeps 16-bit depth and alpha; we convert (and orient) ourselves. But
    // OpenCV 4.6 decodes an 8-bit grey Sun raster asked for one channel (UNCHANGED or GRAYSCALE)
    // as all zeros, a black image without an error; asked for colour it expands the grey
    // correctly. Sun raster has neither alpha nor 16-bit depth, so colour loses nothing.
    const int flags = header.format == ImageFormat::kSunRaster ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
    decoded = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    if (e.func == "validateInputImageSize") return Status::BadInput(name, OpencvLimitReason(e.err));
    return Status::BadInput(name, std::string("decoder failed: ") + e.what());
  } catch (const std::exception& e) {
    return Status::BadInput(name, std::string("decoder failed: ") + e.what());
  }
  if (decoded.empty()) {
    if (header.format == ImageFormat::kUnknown) {
      return Status::BadInput(name, "not an image (no OpenCV decoder recognises it; " +
                                     FirstBytes(data, size) + ")");
    }
    return Status::BadInput(name, std::string("corrupt or unsupported ") + FormatName(header.format) +
                                   " data (the decoder could not read it)");
  }
  // Formats whose header we do not read were only held to OpenCV's limit before decoding.
  const std::uint64_t pixels = static_cast<std::uint64_t>(decoded.cols) * static_cast<std::uint64_t>(decoded.rows);
  if (pixels > options.max_pixels) {
    return Status::BadInput(name, "image is " + std::to_string(decoded.cols) + " x " + std::to_string(decoded.rows) +
                                   " = " + std::to_string(pixels) + " pixels, above the limit of " +
                                   std::to_string(options.max_pixels) +
                                   " (raise DecodeOptions::max_pixels to accept it)");
  }
  try {
    ToRgb8(decoded, options.alpha_background, rgb);
  } catch (const std::exception& e) {
    return Status::BadInput(name, std::string("conversion to RGB failed: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace

std::string DecodeWarnings::summary() const {
  if (!any()) return "";
  std::string text = "damaged JPEG (";
  for (std::size_t i = 0; i < messages.size(); ++i) text += (i ? "; " : "") + messages[i];
  if (count > static_cast<long>(messages.size())) text += "; " + std::to_string(count) + " warnings in all";
  return text + ")";
}

Status ReadFileBytes(const std::string& path, std::uint64_t max_bytes,
                       std::vector<std::uint8_t>& bytes) {
  // O_NONBLOCK: a FIFO named like an image must not block us (regular files ignore it).
  const ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return OpenError(path, errno);
  ALEXNET_ASSIGN_OR_RETURN(const std::uint64_t size, CheckedFileSize(fd.get(), path, max_bytes));
  ALEXNET_RETURN_IF_ERROR(ReadUpTo(fd.get(), path, size, bytes));
  if (bytes.empty()) return Status::BadInput(path, "empty file (0 bytes)");
  return Status::Ok();
}

void ToRgb8(const cv::Mat& decoded, const std::array<std::uint8_t, 3>& alpha_background,
             cv::Mat& rgb) {
  cv::Mat m8;
  switch (decoded.depth()) {
    case CV_8U:
      m8 = decoded;
      break;
    case CV_16U:
      decoded.convertTo(m8, CV_8U, 1.0 / 257.0);  // 65535 -> 255, rounded
      break;
    case CV_32F:
    case CV_64F:
      decoded.convertTo(m8, CV_8U, 255.0);  // nominal 0..1, saturated
      break;
    default: {  // signed integer images: stretch their range to 0..255
      cv::Mat f;
      decoded.convertTo(f, CV_32F);
      cv::normalize(f, f, 0, 255, cv::NORM_MINMAX);
      f.convertTo(m8, CV_8U);
    }
  }
  switch (m8.channels()) {
    case 1:
      cv::cvtColor(m8, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 2: {  // grey + alpha
      cv::Mat bgra;
      cv::Mat planes[2];
      cv::split(m8, planes);
      cv::Mat parts[4] = {planes[0], planes[0], planes[0], planes[1]};
      cv::merge(parts, 4, bgra);
      CompositeAlpha(bgra, alpha_background, rgb);
      break;
    }
    case 3:
      cv::cvtColor(m8, rgb, cv::COLOR_BGR2RGB);
      break;
    default:
      if (m8.channels() == 4) {
        CompositeAlpha(m8, alpha_background, rgb);
      } else {  // unusual channel counts: keep the first three
        cv::Mat planes[3];
        for (int c = 0; c < 3; ++c) cv::extractChannel(m8, planes[c], 2 - c);
        cv::merge(planes, 3, rgb);
      }
  }
}

void ApplyExifOrientation(int orientation, cv::Mat& image) {
  // EXIF names where row 0 / column 0 of the stored image belong; these undo it.
  switch (orientation) {
    case 2: cv::flip(image, image, 1); break;                          // mirrored
    case 3: cv::rotate(image, image, cv::ROTATE_180); break;           // upside down
    case 4: cv::flip(image, image, 0); break;                          // mirrored vertically
    case 5: cv::transpose(image, image); break;                        // mirrored + 90 CCW
    case 6: cv::rotate(image, image, cv::ROTATE_90_CLOCKWISE); break;  // camera turned right
    case 7: cv::transpose(image, image); cv::flip(image, image, -1); break;
    case 8: cv::rotate(image, image, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: break;
  }
}

Status DecodeImageBytes(const std::uint8_t* data, std::size_t size, const std::string& name,
                          const DecodeOptions& options, cv::Mat& rgb, DecodeWarnings* warnings) {
  DecodeWarnings unused;
  DecodeWarnings& noted = warnings ? *warnings : unused;
  noted = DecodeWarnings();
  if (size == 0) return Status::BadInput(name, "empty file (0 bytes)");
  const ImageHeader header = ProbeImageHeader(data, size);
  int orientation = header.orientation;
  if (header.format == ImageFormat::kJpeg) {
    ALEXNET_RETURN_IF_ERROR(DecodeJpeg(data, size, name, options, rgb, noted, orientation));
  } else {
    // The size check comes first: a header declaring an absurd size is the more useful report
    // even when the (small) file is also "truncated" with respect to it.
    ALEXNET_RETURN_IF_ERROR(CheckDeclaredSize(header.format, header.width, header.height, name, options));
    // Before cv::imdecode: OpenCV 4.6 decodes PFM, Sun raster, HDR and EXR from a temporary file in /tmp,
    // and its own refusal of the size (a throw) skips removing it (image_header.h).
    const std::string limit = OpenCvLimitProblem(header.width, header.height);
    if (!limit.empty()) return Status::BadInput(name, limit);
    if (!header.problem.empty()) return Status::BadInput(name, header.problem);
    // DICOM is not read. Found by fuzzing (fuzz/fuzz_decode_image): Debian's OpenCV hands any
    // file with "DICM" at offset 128 to GDCM, whose reader assert()s on a malformed one and so
    // aborts the whole process (a training run), whatever the file is named, and it asks GDCM
    // before other decoders: a file with an intact JPEG 2000 signature and "DICM" at 128 went to
    // GDCM too (fuzzing again). So the check holds for every format OpenCV decodes here; a real
    // PNG, TIFF... with those four bytes at 128 by chance (1 in 2^32) is refused with this reason.
    if (size >= 132 && std::memcmp(data + 128, "DICM", 4) == 0) {
      return Status::BadInput(name, "DICOM files are not supported (GDCM aborts the process on a malformed one)");
    }
    ALEXNET_RETURN_IF_ERROR(DecodeWithOpenCv(data, size, name, header, options, rgb));
  }
  try {
    if (options.apply_exif_orientation) ApplyExifOrientation(orientation, rgb);
  } catch (const std::exception& e) {
    return Status::BadInput(name, std::string("conversion to RGB failed: ") + e.what());
  }
  return Status::Ok();
}

Status DecodeImageFile(const std::string& path, const DecodeOptions& options, cv::Mat& rgb,
                         DecodeWarnings* warnings) {
  // One buffer per thread: the loader's workers decode thousands of files without reallocating.
  thread_local std::vector<std::uint8_t> bytes;
  if (warnings) *warnings = DecodeWarnings();
  ALEXNET_RETURN_IF_ERROR(ReadFileBytes(path, options.max_file_bytes, bytes));
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    return Status::BadInput(path, "file too large for the decoder (over 2 GiB)");
  }
  Status status = DecodeImageBytes(bytes.data(), bytes.size(), path, options, rgb, warnings);
  if (bytes.capacity() > (64u << 20)) std::vector<std::uint8_t>().swap(bytes);  // stay bounded
  return status;
}

Result<cv::Mat> DecodeImageFile(const std::string& path, const DecodeOptions& options) {
  cv::Mat rgb;
  Status status = DecodeImageFile(path, options, rgb);
  if (!status.ok()) return status;
  return rgb;
}

}  // namespace alexnet::data
