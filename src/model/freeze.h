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

// The frozen graph with its preprocessing inside, for a SavedModel: input node "images"
// [N, S, S, 3] float, RGB 0..255 (the centre crops); "mean_subtracted" = images - mean, where
// `mean` is [3] (per channel) or [S, S, 3] (the centre crop of the per-pixel mean image); then the
// network of FreezeInferenceGraph (whose "input" node becomes an Identity of "mean_subtracted");
// outputs "probabilities" [N, classes] and "top_class" [N] int64. Always fp32.
Result<tensorflow::GraphDef> FreezeServingGraph(const ModelOptions& opts,
                                                const std::vector<std::pair<std::string, tensorflow::Tensor>>& params,
                                                const tensorflow::Tensor& mean);

}  // namespace alexnet::model
