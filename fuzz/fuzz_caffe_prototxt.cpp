// fuzz_caffe_prototxt: a network description (deploy.prototxt) as `alexnet import caffe` reads it
// (caffe/caffe_net.h): OpenCV's Caffe importer, our second parse with Caffe's schema (layer
// types, convolution and pooling geometry, LRN k; a group of 0 crashed OpenCV before it: seed
// regression-group0.prototxt), and the checks against the seed table, with no weights (the
// checks stop at the first layer without any; 61 million random floats per input would not
// fuzz anything faster).
// Seeds: fuzz/corpus/fuzz_caffe_prototxt (bvlc_alexnet's deploy.prototxt in both of Caffe's
// formats, as tests/caffe/caffe_fixture writes them).
#include <cstddef>
#include <cstdint>
#include <string>

#include <opencv2/core/utils/logger.hpp>

#include "caffe/caffe_net.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
  }();
  (void)quiet;
  alexnet::caffe::CaffeFiles files;
  files.prototxt_path = alexnet::fuzz::WriteScratchFile("deploy.prototxt", data, size);
  files.caffemodel_path = alexnet::fuzz::WriteScratchFile("empty.caffemodel", nullptr, 0);
  const auto read = alexnet::caffe::ReadCaffeAlexNet(
      files, [](const std::string&, const alexnet::caffe::Array&) { return alexnet::Status::Ok(); });
  if (read.ok()) __builtin_trap();  // no weights: it cannot succeed
  return 0;
}
