// Central finite differences, the independent check of a backward pass (Caffe's GradientChecker,
// CS231n's gradcheck): the slope of the loss measured by evaluating it, with no calculus involved.
#pragma once

#include <functional>

#include "reference/tensor.h"

namespace alexnet::reference {

// dL/dx ~ (L(x + h) - L(x - h)) / 2h for one value x that `loss` reads: x is moved to x + h, then
// x - h, and put back. The error is O(h^2) (the even terms of the Taylor series cancel) plus the
// loss's rounding divided by h; in double, h about 1e-5 of x's scale keeps both near 1e-9 of the
// gradient.
// The quotient uses the step actually taken in floating point, (x + h) - (x - h).
double CentralDifference(double& x, double h, const std::function<double()>& loss);

// The step for the values of `t`: 1e-5 times the larger of 1 and their root mean square (pixels
// of about 60 get 6e-4, weights and biases 1e-5). Small enough that a step rarely moves a ReLU's
// input across 0 or changes a pooling window's maximum, where the loss has a kink.
double FiniteDifferenceStep(const Tensor& t);

}  // namespace alexnet::reference
