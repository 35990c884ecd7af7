#include "caffe/mean_file.h"

#include <cmath>
#include <cstdint>

#include "caffe.pb.h"  // generated from caffe/caffe.proto
#include "caffe/mapping.h"

namespace alexnet::caffe {

Result<CaffeMean> ParseMeanFile(const std::string& bytes, const std::string& origin) {
  alexnet_caffe::BlobProto blob;
  if (!blob.ParseFromString(bytes)) {
    return Status::BadInput(origin, "not a Caffe BlobProto (binaryproto): protobuf cannot parse it");
  }
  std::vector<int64_t> shape;
  if (blob.has_shape()) {
    shape.assign(blob.shape().dim().begin(), blob.shape().dim().end());
  } else {
    shape = {blob.num(), blob.channels(), blob.height(), blob.width()};
  }
  // 1 x 3 x H x W or 3 x H x W.
  if (shape.size() == 4 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 3 || shape[0] != 3 || shape[1] < 1 || shape[1] > 4096 || shape[2] < 1 || shape[2] > 4096) {
    return Status::BadInput(origin, "a mean image of shape " + ShapeText(shape) + "; 3 x H x W (BGR) expected");
  }
  const int h = static_cast<int>(shape[1]), w = static_cast<int>(shape[2]);
  const int64_t count = 3 * int64_t(h) * w;
  std::vector<float> values;
  if (blob.data_size() == count) {
    values.assign(blob.data().begin(), blob.data().end());
  } else if (blob.double_data_size() == count) {
    for (const double v : blob.double_data()) values.push_back(static_cast<float>(v));
  } else {
    return Status::BadInput(origin, std::to_string(std::max(blob.data_size(), blob.double_data_size())) +
                                        " values for a mean image of " + ShapeText(shape) + " (" +
                                        std::to_string(count) + ")");
  }
  for (const float v : values) {
    if (!std::isfinite(v)) return Status::BadInput(origin, "the mean image holds a value that is not finite");
  }
  return CaffeMean{h, w, MeanImageFromBgrChw(values, h, w)};
}

}  // namespace alexnet::caffe
