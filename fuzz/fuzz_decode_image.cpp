// fuzz_decode_image: DecodeImageBytes (data/decode.h) on arbitrary bytes: our header checks
// (image_header.h: format; size, truncation and EXIF orientation where OpenCV cannot check them)
// and then libjpeg or OpenCV's decoders, behind OpenCV's size limit.
// Seeds: fuzz/corpus/fuzz_decode_image (tiny images in every format the tests write).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <opencv2/core.hpp>

#include "data/decode.h"
#include "data/image_header.h"

namespace {

// max_pixels is lowered from the library's 64 megapixels so that a header the fuzzer makes up
// cannot ask for gigabytes per input (the check itself is the same code at any limit).
constexpr std::uint64_t kMaxPixels = 1u << 22;

}  // namespace

// OpenCV's limit is the only check before decoding WebP, TIFF, EXR, ... (decode.h), and OpenCV
// reads it from the environment when it is loaded, before this runs. So when it is not set, the
// target starts itself again with it at kMaxPixels (libFuzzer calls this before anything else;
// the arguments are passed on unchanged). Without it a made-up header could make OpenCV allocate
// up to 2^30 pixels, above -rss_limit_mb.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** argv) {
  if (std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS") == nullptr) {
    setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(kMaxPixels).c_str(), 1);
    execv("/proc/self/exe", *argv);
    std::abort();  // not fuzzing with OpenCV's default limit
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)alexnet::data::ProbeImageHeader(data, size);  // the header walk alone, then the whole decode
  alexnet::data::DecodeOptions options;
  options.max_pixels = kMaxPixels;
  cv::Mat rgb;
  const alexnet::Status status = alexnet::data::DecodeImageBytes(data, size, "fuzz", options, rgb);
  if (status.ok() && (rgb.type() != CV_8UC3 || rgb.empty())) __builtin_trap();  // the documented output
  return 0;
}
