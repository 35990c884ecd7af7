// The one data type of the hand-written reference (src/reference): a dense array of doubles with
// a shape, laid out as TensorFlow lays out its tensors (row-major, last index fastest), so that a
// tensorflow::Tensor copies in and out element for element:
//   activations (N, H, W, C)   NHWC: image, row, column, channel
//   conv filters (K, K, C, OC) HWIO: filter row, filter column, input channel, output channel
//   FC weights  (IN, OUT)      inputs, outputs
//   vectors     (N, C) or (C)  logits, biases
//
// Why double: the reference is checked by central finite differences, (L(x + h) - L(x - h)) / 2h.
// In float32 the loss carries rounding errors of about 1e-7 of its size, which the division by 2h
// turns into large errors unless h is large, and a large h crosses ReLU kinks and max-pooling
// switches. In double the same errors are 1e-16: h can be tiny, and the difference is the slope.
// (CS231n's gradient check and Caffe's GradientChecker make the same choice for the same reason.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace alexnet::reference {

struct Tensor {
  std::vector<int> shape;    // e.g. {2, 15, 15, 96}
  std::vector<double> data;  // product of shape values, row-major

  Tensor() = default;
  explicit Tensor(std::vector<int> shape_in);  // zeros

  size_t size() const { return data.size(); }
  int dim(size_t i) const { return shape[i]; }
  int rank() const { return static_cast<int>(shape.size()); }

  // A 4-D element: activations (b, y, x, c) or filters (i, j, c, o).
  double& operator()(int a, int b, int c, int d) {
    return data[((size_t(a) * shape[1] + b) * shape[2] + c) * shape[3] + d];
  }
  const double& operator()(int a, int b, int c, int d) const {
    return data[((size_t(a) * shape[1] + b) * shape[2] + c) * shape[3] + d];
  }
  // A 2-D element: FC weights (i, o), logits (b, k).
  double& operator()(int a, int b) { return data[size_t(a) * shape[1] + b]; }
  const double& operator()(int a, int b) const { return data[size_t(a) * shape[1] + b]; }
};

// "2x15x15x96".
std::string ShapeString(const Tensor& t);
bool SameShape(const Tensor& a, const Tensor& b);

// How far `actual` is from `expected`: the largest absolute difference, and that divided by the
// largest |expected| value (the normalised error). A per-element relative error is meaningless
// for values near zero, where a float32 sum of hundreds of terms keeps an absolute error of about
// 1e-7 times the terms' size; ggml's test-backend-ops and llm.c's test_gpt2 compare the same way.
// shape_ok is false when the shapes differ (then only the common prefix is compared).
struct Difference {
  bool shape_ok = true;
  double max_abs = 0;
  double normalised = 0;  // max_abs / scale
  double scale = 0;       // max |expected|
  size_t worst = 0;       // index of the largest absolute difference
};
Difference Compare(const Tensor& actual, const Tensor& expected);

}  // namespace alexnet::reference
