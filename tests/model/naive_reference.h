// Naive C++ references for the stages of AlexNet's layer table, written from the paper's
// formulas as plain loops (accumulating in double): convolution with stride and zero padding,
// ReLU, LRN in TensorFlow's convention, max pooling, fully connected, softmax. The tests compare
// TensorFlow's ops inside our graph against these.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <tensorflow/core/framework/tensor.h>

#include "model/layers.h"

namespace alexnet::model::naive {

// A batch of NHWC feature maps (or [N, C] vectors: h = w = 1) held as a plain vector.
struct Maps {
  int n = 0, h = 0, w = 0, c = 0;
  std::vector<float> v;
  size_t index(int b, int y, int x, int ch) const { return ((size_t(b) * h + y) * w + x) * c + ch; }
  float at(int b, int y, int x, int ch) const { return v[index(b, y, x, ch)]; }
  float& at(int b, int y, int x, int ch) { return v[index(b, y, x, ch)]; }
};

inline Maps Zeros(int n, int h, int w, int c) {
  Maps m{n, h, w, c, {}};
  m.v.assign(size_t(n) * h * w * c, 0.0f);
  return m;
}

// A [N, H, W, C] or [N, C] float tensor.
inline Maps FromTensor(const tensorflow::Tensor& t) {
  Maps m;
  m.n = int(t.dim_size(0));
  if (t.dims() == 4) {
    m.h = int(t.dim_size(1));
    m.w = int(t.dim_size(2));
    m.c = int(t.dim_size(3));
  } else {
    m.h = m.w = 1;
    m.c = int(t.dim_size(1));
  }
  const float* p = t.flat<float>().data();
  m.v.assign(p, p + t.NumElements());
  return m;
}

// out[b][y][x][o] = b[o] + sum_{i,j,c} in[b][y*s + i - pad][x*s + j - pad][c] * w[i][j][c][o],
// zero outside the input. Weights in TensorFlow's HWIO layout.
inline Maps Conv(const Maps& in, const tensorflow::Tensor& weights, const tensorflow::Tensor& biases, int stride,
                 int pad) {
  const int k = int(weights.dim_size(0)), oc = int(weights.dim_size(3));
  const auto w = weights.tensor<float, 4>();
  const auto bias = biases.flat<float>();
  Maps out = Zeros(in.n, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1, oc);
  for (int b = 0; b < in.n; ++b)
    for (int y = 0; y < out.h; ++y)
      for (int x = 0; x < out.w; ++x)
        for (int o = 0; o < oc; ++o) {
          double acc = bias(o);
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) {
              const int iy = y * stride + i - pad, ix = x * stride + j - pad;
              if (iy < 0 || ix < 0 || iy >= in.h || ix >= in.w) continue;
              for (int c = 0; c < in.c; ++c) acc += double(in.at(b, iy, ix, c)) * w(i, j, c, o);
            }
          out.at(b, y, x, o) = float(acc);
        }
  return out;
}

inline Maps Relu(Maps m) {
  for (float& x : m.v) x = std::max(x, 0.0f);
  return m;
}

inline Maps Tanh(Maps m) {
  for (float& x : m.v) x = std::tanh(x);
  return m;
}

// LRN as TensorFlow defines it: b = a / (bias + alpha * sum_{|j-c| <= depth_radius} a_j^2)^beta.
// (TensorFlow does not divide alpha by the window size 2*depth_radius+1; Caffe and PyTorch do.)
inline Maps Lrn(const Maps& in, const LrnParams& p) {
  Maps out = in;
  for (int b = 0; b < in.n; ++b)
    for (int y = 0; y < in.h; ++y)
      for (int x = 0; x < in.w; ++x)
        for (int c = 0; c < in.c; ++c) {
          double sum = 0;
          for (int j = std::max(0, c - p.depth_radius); j <= std::min(in.c - 1, c + p.depth_radius); ++j)
            sum += double(in.at(b, y, x, j)) * in.at(b, y, x, j);
          out.at(b, y, x, c) = float(in.at(b, y, x, c) / std::pow(double(p.bias) + double(p.alpha) * sum, p.beta));
        }
  return out;
}

// VALID max pooling, k x k windows at stride s.
inline Maps MaxPool(const Maps& in, int k, int s) {
  Maps out = Zeros(in.n, (in.h - k) / s + 1, (in.w - k) / s + 1, in.c);
  for (int b = 0; b < in.n; ++b)
    for (int y = 0; y < out.h; ++y)
      for (int x = 0; x < out.w; ++x)
        for (int c = 0; c < in.c; ++c) {
          float m = -INFINITY;
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) m = std::max(m, in.at(b, y * s + i, x * s + j, c));
          out.at(b, y, x, c) = m;
        }
  return out;
}

// out[b][o] = bias[o] + sum_i in[b][i] * w[i][o], the input flattened per image in NHWC order
// (y, then x, then channel), weights [inputs, outputs].
inline Maps FullyConnected(const Maps& in, const tensorflow::Tensor& weights, const tensorflow::Tensor& biases) {
  const int64_t inputs = int64_t(in.h) * in.w * in.c;
  const int outputs = int(weights.dim_size(1));
  const auto w = weights.matrix<float>();
  const auto bias = biases.flat<float>();
  Maps out = Zeros(in.n, 1, 1, outputs);
  for (int b = 0; b < in.n; ++b)
    for (int o = 0; o < outputs; ++o) {
      double acc = bias(o);
      int64_t i = 0;
      for (int y = 0; y < in.h; ++y)
        for (int x = 0; x < in.w; ++x)
          for (int c = 0; c < in.c; ++c, ++i) acc += double(in.at(b, y, x, c)) * w(i, o);
      if (i != inputs) std::abort();
      out.at(b, 0, 0, o) = float(acc);
    }
  return out;
}

// Softmax over the classes of each image: exp(z_k - max z) / sum_j exp(z_j - max z).
inline Maps Softmax(const Maps& logits) {
  Maps out = logits;
  const size_t classes = size_t(logits.h) * logits.w * logits.c;
  for (int b = 0; b < logits.n; ++b) {
    const float* z = &logits.v[b * classes];
    const double top = *std::max_element(z, z + classes);
    double sum = 0;
    for (size_t k = 0; k < classes; ++k) sum += std::exp(double(z[k]) - top);
    for (size_t k = 0; k < classes; ++k) out.v[b * classes + k] = float(std::exp(double(z[k]) - top) / sum);
  }
  return out;
}

// How far a stage's output is from its reference: the largest absolute difference, and that
// divided by the largest |reference| value of the stage. (Per-element relative error is
// meaningless for outputs near zero, where float32 sums of hundreds of terms keep an absolute
// error of about 1e-7 times the terms' size.) shape_ok is false when the shapes differ.
struct Difference {
  bool shape_ok = true;
  double max_abs = 0;
  double max_rel = 0;
  double scale = 0;  // max |reference|
  size_t worst = 0;  // index of the largest absolute difference
};

inline Difference Compare(const Maps& actual, const Maps& expected) {
  Difference d;
  d.shape_ok = actual.n == expected.n && actual.h == expected.h && actual.w == expected.w &&
               actual.c == expected.c && actual.v.size() == expected.v.size();
  for (size_t i = 0; i < std::min(actual.v.size(), expected.v.size()); ++i) {
    const double diff = std::abs(double(actual.v[i]) - expected.v[i]);
    if (diff > d.max_abs || std::isnan(diff)) {
      d.max_abs = std::isnan(diff) ? INFINITY : diff;
      d.worst = i;
    }
    d.scale = std::max(d.scale, std::abs(double(expected.v[i])));
  }
  d.max_rel = d.max_abs / std::max(d.scale, 1e-30);
  return d;
}

inline std::string ShapeString(const Maps& m) {
  return std::to_string(m.n) + "x" + std::to_string(m.h) + "x" + std::to_string(m.w) + "x" + std::to_string(m.c);
}

}  // namespace alexnet::model::naive
