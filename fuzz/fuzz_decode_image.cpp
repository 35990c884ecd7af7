// fuzz_decode_image: decode_image_bytes (data/decode.h) on arbitrary bytes: our header checks
// (image_header.h: format, size, EXIF orientation, truncation) and then OpenCV's decoders.
// Seeds: fuzz/corpus/fuzz_decode_image (tiny images in every format the tests write).
#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

#include "data/decode.h"
#include "data/image_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The header walk alone, then the whole decode. max_pixels is lowered from the library's
  // 64 megapixels so that a header the fuzzer makes up cannot ask for gigabytes per input
  // (the check itself is the same code at any limit).
  (void)alexnet::data::probe_image_header(data, size);
  alexnet::data::DecodeOptions options;
  options.max_pixels = 1u << 22;
  cv::Mat rgb;
  const alexnet::data::Status status = alexnet::data::decode_image_bytes(data, size, "fuzz", options, rgb);
  if (status.ok() && (rgb.type() != CV_8UC3 || rgb.empty())) __builtin_trap();  // the documented output
  return 0;
}
