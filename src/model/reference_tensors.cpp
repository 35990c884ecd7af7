#include "model/reference_tensors.h"

namespace alexnet::model {

reference::Tensor ToReference(const tensorflow::Tensor& t) {
  std::vector<int> shape;
  for (int i = 0; i < t.dims(); ++i) shape.push_back(static_cast<int>(t.dim_size(i)));
  reference::Tensor r(shape);
  const float* p = t.flat<float>().data();
  for (size_t i = 0; i < r.size(); ++i) r.data[i] = p[i];
  return r;
}

tensorflow::Tensor ToTensorFlow(const reference::Tensor& r) {
  tensorflow::TensorShape shape;
  for (int d : r.shape) shape.AddDim(d);
  tensorflow::Tensor t(tensorflow::DT_FLOAT, shape);
  float* p = t.flat<float>().data();
  for (size_t i = 0; i < r.size(); ++i) p[i] = static_cast<float>(r.data[i]);
  return t;
}

void RoundToFloat(reference::Tensor* t) {
  for (double& v : t->data) v = static_cast<float>(v);
}

}  // namespace alexnet::model
