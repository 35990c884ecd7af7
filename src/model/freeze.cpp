#include "model/freeze.h"

#include <tensorflow/cc/ops/standard_ops.h>

#include "model/graph.h"

namespace alexnet::model {

absl::Status FreezeInferenceGraph(const ModelOptions& opts,
                                  const std::vector<std::pair<std::string, tensorflow::Tensor>>& params,
                                  tensorflow::GraphDef* graph) {
  tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  absl::Status missing;
  auto constant = [&](const tensorflow::Scope& s, const Parameter& p) -> tensorflow::Output {
    for (const auto& [name, value] : params) {
      if (name == p.name) return tensorflow::ops::Const(s.WithOpName(p.name), value);
    }
    missing = absl::NotFoundError("parameter " + p.name + " missing from the checkpoint");
    return tensorflow::ops::Const(s.WithOpName(p.name), 0.0f, p.shape);
  };
  Network net;
  TF_RETURN_IF_ERROR(BuildAlexNet(root, opts, /*with_dropout=*/false, constant, &net));
  TF_RETURN_IF_ERROR(missing);
  return root.ToGraphDef(graph);
}

}  // namespace alexnet::model
