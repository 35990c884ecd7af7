// fuzz_caffe_mean: Caffe's mean image file (imagenet_mean.binaryproto) as `alexnet import caffe
// --mean-file` reads it (caffe/mean_file.h): protobuf parsing with Caffe's schema, then the shape
// and value checks.
// Seeds: fuzz/corpus/fuzz_caffe_mean (small BlobProtos, legacy 4-D and BlobShape forms).
#include <cstddef>
#include <cstdint>
#include <string>

#include "caffe/mean_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto mean = alexnet::caffe::ParseMeanFile(std::string(reinterpret_cast<const char*>(data), size), "mean.binaryproto");
  if (mean.ok() && mean->rgb_hwc.size() != static_cast<std::size_t>(mean->height) * mean->width * 3) __builtin_trap();
  return 0;
}
