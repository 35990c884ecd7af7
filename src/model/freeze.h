// A frozen inference graph: the forward pass with the trained parameters as constants and no
// dropout, the form other tools (OpenCV's DNN module, TensorFlow's tools) load.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <tensorflow/core/framework/graph.pb.h>
#include <tensorflow/core/framework/tensor.h>

#include "model/layers.h"

namespace alexnet::model {

// Input node "input" [N, S, S, 3]; output node "probabilities" [N, classes].
Result<tensorflow::GraphDef> FreezeInferenceGraph(
    const ModelOptions& opts, const std::vector<std::pair<std::string, tensorflow::Tensor>>& params);

}  // namespace alexnet::model
