#include "train/batch_tensors.h"

#include <cstdint>
#include <cstring>

namespace alexnet::train {

tensorflow::Tensor ImagesTensor(const data::Batch& b) {
  tensorflow::Tensor t(tensorflow::DT_FLOAT,
                       {int64_t(b.size) * b.views, b.height, b.width, b.channels});
  std::memcpy(t.flat<float>().data(), b.images.data(), sizeof(float) * t.NumElements());
  return t;
}

tensorflow::Tensor LabelsTensor(const data::Batch& b) {
  tensorflow::Tensor t(tensorflow::DT_INT32, {b.size});
  std::memcpy(t.flat<int32_t>().data(), b.labels.data(), sizeof(int32_t) * b.size);
  return t;
}

}  // namespace alexnet::train
