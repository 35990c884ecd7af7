#include "model/freeze.h"

#include <tensorflow/cc/ops/standard_ops.h>

#include "model/graph.h"

namespace alexnet::model {

Result<tensorflow::GraphDef> FreezeInferenceGraph(
    const ModelOptions& model, const std::vector<std::pair<std::string, tensorflow::Tensor>>& params) {
  ModelOptions opts = model;
  opts.lrn_kernel = LrnKernel::kTensorFlow;  // other programs have only TensorFlow's kernels
  tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  Status missing;
  auto constant = [&](const tensorflow::Scope& s, const Parameter& p) -> tensorflow::Output {
    for (const auto& [name, value] : params) {
      if (name == p.name) return tensorflow::ops::Const(s.WithOpName(p.name), value);
    }
    missing = Status::BadInput("", "parameter " + p.name + " missing from the checkpoint");
    return tensorflow::ops::Const(s.WithOpName(p.name), 0.0f, p.shape);
  };
  Network net;
  ALEXNET_RETURN_IF_ERROR(BuildAlexNet(root, opts, /*with_dropout=*/false, constant, &net));
  ALEXNET_RETURN_IF_ERROR(missing);
  tensorflow::GraphDef graph;
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&graph));
  return graph;
}

}  // namespace alexnet::model
