// Local response normalisation on the CPU: our own kernel for TensorFlow's LRN and LRNGrad ops.
//
// TensorFlow's CPU kernels compute LRN with a channels x channels band-matrix product (96 x 96
// for lrn1, 256 x 256 for lrn2, all but 5 entries per row zero) followed by exp(-beta * log t),
// and its gradient with one scalar pow per activation: 13 % of a bf16 training step here, for an
// op with no parameters. The same formulas as plain loops over each pixel's channels, which the
// compiler vectorises, take a quarter to a third of that time (`alexnet time --lrn-kernel tensorflow` against
// the default). The graph keeps TensorFlow's LRN and LRNGrad ops; a node asks for this kernel
// with its `_kernel` label (Scope::WithKernelLabel), and nodes without the label, such as the
// frozen graph's, run TensorFlow's own kernel. The arithmetic itself is in lrn_rows.h, without
// TensorFlow, so that the sanitizer builds test it too.
#pragma once

#include "model/lrn_rows.h"

namespace alexnet::model {

// The label that selects this kernel for an LRN or LRNGrad node. Calling it also links the
// kernel's registration into the program.
const char* OwnLrnKernelLabel();

}  // namespace alexnet::model
