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

Result<tensorflow::GraphDef> FreezeServingGraph(const ModelOptions& model,
                                                const std::vector<std::pair<std::string, tensorflow::Tensor>>& params,
                                                const tensorflow::Tensor& mean) {
  const int size = model.input_size;
  const bool per_channel = mean.dims() == 1 && mean.dim_size(0) == 3;
  const bool per_pixel = mean.dims() == 3 && mean.dim_size(0) == size && mean.dim_size(1) == size && mean.dim_size(2) == 3;
  if (mean.dtype() != tensorflow::DT_FLOAT || !(per_channel || per_pixel)) {
    return Status::BadInput("", "the mean is " + mean.shape().DebugString() + ", not [3] or [" + std::to_string(size) +
                                    ", " + std::to_string(size) + ", 3] floats");
  }
  ModelOptions opts = model;
  opts.precision = Precision::kFp32;
  ALEXNET_ASSIGN_OR_RETURN(tensorflow::GraphDef graph, FreezeInferenceGraph(opts, params));
  // The preprocessing and the top class, in a scope of their own, joined to the network by name.
  tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  namespace ops = tensorflow::ops;
  auto images = ops::Placeholder(root.WithOpName("images"), tensorflow::DT_FLOAT,
                                 ops::Placeholder::Shape({-1, size, size, 3}));
  ops::Subtract(root.WithOpName("mean_subtracted"), images, ops::Const(root.WithOpName("mean"), mean));
  auto probabilities = ops::Placeholder(root.WithOpName("probabilities"), tensorflow::DT_FLOAT);
  ops::ArgMax(root.WithOpName("top_class"), probabilities, ops::Const(root.WithOpName("class_axis"), 1),
              ops::ArgMax::OutputType(tensorflow::DT_INT64));
  tensorflow::GraphDef ends;
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&ends));
  for (tensorflow::NodeDef& node : *graph.mutable_node()) {
    if (node.name() != "input") continue;
    node.set_op("Identity");
    node.clear_attr();
    node.add_input("mean_subtracted");
    (*node.mutable_attr())["T"].set_type(tensorflow::DT_FLOAT);
  }
  for (const tensorflow::NodeDef& node : ends.node()) {
    if (node.name() != "probabilities") *graph.add_node() = node;  // the network has its own
  }
  return graph;
}

}  // namespace alexnet::model
