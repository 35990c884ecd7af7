#include "reference/tensor.h"

#include <algorithm>
#include <cmath>

namespace alexnet::reference {

Tensor::Tensor(std::vector<int> shape_in) : shape(std::move(shape_in)) {
  size_t n = 1;
  for (int d : shape) n *= size_t(d);
  data.assign(n, 0.0);
}

std::string ShapeString(const Tensor& t) {
  std::string s;
  for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? "x" : "") + std::to_string(t.shape[i]);
  return s;
}

bool SameShape(const Tensor& a, const Tensor& b) { return a.shape == b.shape && a.size() == b.size(); }

Difference Compare(const Tensor& actual, const Tensor& expected) {
  Difference d;
  d.shape_ok = SameShape(actual, expected);
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    const double diff = std::abs(actual.data[i] - expected.data[i]);
    if (diff > d.max_abs || std::isnan(diff)) {
      d.max_abs = std::isnan(diff) ? INFINITY : diff;
      d.worst = i;
    }
    d.scale = std::max(d.scale, std::abs(expected.data[i]));
  }
  d.normalised = d.max_abs / std::max(d.scale, 1e-30);
  return d;
}

}  // namespace alexnet::reference
