// Local response normalisation over rows of channels, forward and gradient: the arithmetic of
// our CPU kernel for TensorFlow's LRN and LRNGrad ops (lrn_kernel.h), without TensorFlow.
#pragma once

#include <cstdint>

#include "model/layers.h"

namespace alexnet::model {

// `rows` pixels of `depth` channels each, channels contiguous (NHWC flattened):
//   t_c = bias + alpha * sum of x_d^2 over d = c - r .. c + r (inside 0 .. depth-1)
//   y_c = x_c * t_c^-beta
void LrnForwardRows(const float* x, float* y, int64_t rows, int depth, const LrnParams& p);

// The gradient of the loss w.r.t. x, given its gradient g w.r.t. y and the forward pass's x, y:
//   dx_c = g_c * t_c^-beta - 2 * alpha * beta * x_c * sum of g_d * y_d / t_d over d = c - r .. c + r
void LrnBackwardRows(const float* g, const float* x, const float* y, float* dx, int64_t rows, int depth,
                     const LrnParams& p);

}  // namespace alexnet::model
