#include "model/gradient_fixes.h"

#include <string>
#include <unordered_map>

namespace alexnet::model {

int FixLrnGradientAttributes(tensorflow::GraphDef* graph) {
  std::unordered_map<std::string, const tensorflow::NodeDef*> by_name;
  for (const tensorflow::NodeDef& n : graph->node()) by_name[n.name()] = &n;
  int fixed = 0;
  for (tensorflow::NodeDef& n : *graph->mutable_node()) {
    if (n.op() != "LRNGrad" || n.input_size() < 3) continue;
    // Inputs: input_grads, input_image (LRN's input), output_image (LRN's output "name[:0]").
    std::string fwd = n.input(2);
    if (const auto colon = fwd.find(':'); colon != std::string::npos) fwd.resize(colon);
    const auto it = by_name.find(fwd);
    if (it == by_name.end() || it->second->op() != "LRN") continue;
    for (const char* attr : {"depth_radius", "bias", "alpha", "beta", "_kernel"}) {
      const auto a = it->second->attr().find(attr);
      if (a != it->second->attr().end()) (*n.mutable_attr())[attr] = a->second;
    }
    ++fixed;
  }
  return fixed;
}

}  // namespace alexnet::model
