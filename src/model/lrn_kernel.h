// Local response normalisation on the CPU: our own kernel for TensorFlow's LRN and LRNGrad ops.
//
// TensorFlow's CPU kernels compute LRN with a channels x channels band-matrix product (96 x 96
// for lrn1, 256 x 256 for lrn2, all but 5 entries per row zero) followed by exp(-beta * log t),
// and its gradient with one scalar pow per activation: 14 % of a bf16 training step here, for an
// op with no parameters. The same formulas as plain loops over each pixel's channels, which the
// compiler vectorises, take a fifth of that time (`alexnet time --lrn-kernel tensorflow` against
// the default). The graph keeps TensorFlow's LRN and LRNGrad ops; a node asks for this kernel
// with its `_kernel` label (Scope::WithKernelLabel), and nodes without the label, such as the
// frozen graph's, run TensorFlow's own kernel.
#pragma once

#include <cstdint>

#include "model/layers.h"

namespace alexnet::model {

// The label that selects this kernel for an LRN or LRNGrad node. Calling it also links the
// kernel's registration into the program.
const char* OwnLrnKernelLabel();

// `rows` pixels of `depth` channels each, channels contiguous (NHWC flattened):
//   t_c = bias + alpha * sum of x_d^2 over d = c - r .. c + r (inside 0 .. depth-1)
//   y_c = x_c * t_c^-beta
void LrnForwardRows(const float* x, float* y, int64_t rows, int depth, const LrnParams& p);

// The gradient of the loss w.r.t. x, given its gradient g w.r.t. y and the forward pass's x, y:
//   dx_c = g_c * t_c^-beta - 2 * alpha * beta * x_c * sum of g_d * y_d / t_d over d = c - r .. c + r
void LrnBackwardRows(const float* g, const float* x, const float* y, float* dx, int64_t rows, int depth,
                     const LrnParams& p);

}  // namespace alexnet::model
