// The default pixel limit of decoding, in a header of its own so that the program's start-up
// code (src/cli/start_environment.h, which sets OpenCV's limit to it before OpenCV loads) can use
// the same number without depending on OpenCV.
#pragma once

#include <cstdint>

namespace alexnet::data {

// 64 megapixels, e.g. 9248 x 6936: DecodeOptions::max_pixels and OPENCV_IO_MAX_IMAGE_PIXELS.
inline constexpr std::uint64_t kDefaultMaxPixels = 64'000'000;

}  // namespace alexnet::data
