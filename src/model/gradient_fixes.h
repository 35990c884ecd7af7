// Repairs to TensorFlow's C++ gradient functions, applied to the serialised training graph.
#pragma once

#include <tensorflow/core/framework/graph.pb.h>

namespace alexnet::model {

// TensorFlow 2.21's C++ gradient for LRN (tensorflow/cc/gradients/nn_grad.cc, LRNGradHelper)
// builds LRNGrad without copying the forward op's depth_radius/bias/alpha/beta, so it
// differentiates LRN with the op's defaults (5, 1, 1, 0.5) instead of AlexNet's (2, 2, 1e-4, 0.75).
// This copies the attributes from each LRNGrad's forward LRN node (its third input). Returns the
// number of nodes repaired. Python TensorFlow's gradient does copy them; so does this. It also
// copies the forward node's kernel label (`_kernel`), so that the gradient runs on the same
// kernel as the forward pass (lrn_kernel.h).
int FixLrnGradientAttributes(tensorflow::GraphDef* graph);

}  // namespace alexnet::model
