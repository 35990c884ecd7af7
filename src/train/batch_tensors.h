// A loader batch (data::Batch) as the tensors the model is fed: what every training step and
// every evaluation hands to model::ModelSession.
#pragma once

#include <tensorflow/core/framework/tensor.h>

#include "data/loader.h"

namespace alexnet::train {

// The images of a loader batch as a [N * views, H, W, 3] tensor.
tensorflow::Tensor ImagesTensor(const data::Batch& batch);
tensorflow::Tensor LabelsTensor(const data::Batch& batch);

}  // namespace alexnet::train
