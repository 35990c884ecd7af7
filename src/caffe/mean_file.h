// Caffe's mean image (imagenet_mean.binaryproto): one BlobProto of 1 x 3 x H x W floats, BGR,
// 0..255, parsed with protobuf and Caffe's schema (caffe.proto).
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet::caffe {

struct CaffeMean {
  int height = 0, width = 0;
  std::vector<float> rgb_hwc;  // H x W x 3, RGB: our mean image's layout (ColorStats::mean_image)
};

// `bytes`: the file's content; `origin` names it in errors. Refuses what is not a 3-channel
// image of finite values between 1 x 1 and 4096 x 4096 (shape from `shape` or the legacy
// num/channels/height/width fields, which ILSVRC-2012's file uses).
Result<CaffeMean> ParseMeanFile(const std::string& bytes, const std::string& origin);

}  // namespace alexnet::caffe
