// Copies between tensorflow::Tensor (float32) and the hand-written reference's Tensor (double,
// src/reference/tensor.h), element for element: both are row-major in TensorFlow's layouts
// (NHWC, HWIO, [inputs, outputs]). To float rounds; from float is exact.
#pragma once

#include <tensorflow/core/framework/tensor.h>

#include "reference/tensor.h"

namespace alexnet::model {

reference::Tensor ToReference(const tensorflow::Tensor& t);  // a float tensor of any rank
tensorflow::Tensor ToTensorFlow(const reference::Tensor& t);
// Rounds every value to the nearest float32, so that TensorFlow is fed exactly the values the
// reference computes with.
void RoundToFloat(reference::Tensor* t);

}  // namespace alexnet::model
