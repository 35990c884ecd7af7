#include "model/summary.h"

#include <iomanip>
#include <memory>
#include <sstream>

#include <tensorflow/c/c_api.h>
#include <tensorflow/cc/framework/scope.h>

#include "model/graph.h"
#include "util/format.h"

namespace alexnet::model {

namespace {

// RAII for the C API objects used to query inferred shapes.
struct CGraph {
  TF_Graph* graph = TF_NewGraph();
  TF_Status* status = TF_NewStatus();
  ~CGraph() {
    TF_DeleteStatus(status);
    TF_DeleteGraph(graph);
  }
  Status Import(const tensorflow::GraphDef& gd) {
    const std::string bytes = gd.SerializeAsString();
    TF_Buffer* buf = TF_NewBufferFromString(bytes.data(), bytes.size());
    TF_ImportGraphDefOptions* io = TF_NewImportGraphDefOptions();
    TF_GraphImportGraphDef(graph, buf, io, status);
    TF_DeleteImportGraphDefOptions(io);
    TF_DeleteBuffer(buf);
    if (TF_GetCode(status) == TF_OK) return Status::Ok();
    return Status::Internal(std::string("importing the graph: ") + TF_Message(status));
  }
  // Shape of output 0 of a named node, as inferred by TensorFlow.
  Result<std::vector<int64_t>> Shape(const std::string& node) {
    TF_Operation* op = TF_GraphOperationByName(graph, node.c_str());
    if (!op) return Status::Internal("node " + node + " not in graph");
    TF_Output out{op, 0};
    const int n = TF_GraphGetTensorNumDims(graph, out, status);
    std::vector<int64_t> dims(n > 0 ? n : 0);
    if (n > 0) TF_GraphGetTensorShape(graph, out, dims.data(), n, status);
    if (TF_GetCode(status) != TF_OK) return Status::Internal(TF_Message(status));
    return dims;
  }
};

std::string NodeName(const tensorflow::Output& o) { return o.node()->name(); }

}  // namespace

Result<Summary> BuildSummary(const ModelOptions& opts) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<LayerShape> formula, ComputeLayerShapes(opts));
  tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  Network net;
  ALEXNET_RETURN_IF_ERROR(BuildAlexNet(root, opts, /*with_dropout=*/false, MakeVariable, &net));
  tensorflow::GraphDef gd;
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&gd));
  CGraph g;
  ALEXNET_RETURN_IF_ERROR(g.Import(gd));

  Summary out;
  out.options = opts;
  out.input_bytes = ActivationBytes(int64_t(opts.input_size) * opts.input_size * 3);
  out.total_activation_bytes = out.input_bytes;
  for (size_t i = 0; i < net.stages.size(); ++i) {
    const LayerSpec& spec = formula[i].spec;
    SummaryRow row;
    row.name = net.stages[i].first;
    row.kind = KindName(spec.kind);
    ALEXNET_ASSIGN_OR_RETURN(const std::vector<int64_t> dims, g.Shape(NodeName(net.stages[i].second)));
    row.out_shape.assign(dims.begin() + 1, dims.end());  // drop the batch dimension
    const std::vector<int64_t> expect =
        spec.kind == LayerKind::kFullyConnected
            ? std::vector<int64_t>{formula[i].out_c}
            : std::vector<int64_t>{formula[i].out_h, formula[i].out_w, formula[i].out_c};
    if (row.out_shape != expect) {
      return Status::Internal("TensorFlow's inferred shape of " + row.name + " disagrees with the layer formula");
    }
    for (const Parameter& p : net.parameters) {
      if (p.name.rfind(row.name + "/", 0) != 0) continue;
      ALEXNET_ASSIGN_OR_RETURN(const std::vector<int64_t> pd, g.Shape(NodeName(p.value)));
      int64_t n = 1;
      for (int64_t d : pd) n *= d;
      row.params += n;
    }
    if (row.params != formula[i].params) {
      return Status::Internal("parameter count of " + row.name + " disagrees with the layer formula");
    }
    std::ostringstream geo;
    if (spec.kind == LayerKind::kConv) {
      geo << spec.kernel << "x" << spec.kernel << " /" << spec.stride << " pad " << spec.pad;
    } else if (spec.kind == LayerKind::kMaxPool) {
      geo << spec.kernel << "x" << spec.kernel << " /" << spec.stride;
    } else if (spec.kind == LayerKind::kLrn) {
      geo << "n=" << 2 * opts.lrn_params.depth_radius + 1;
    }
    row.geometry = geo.str();
    row.macs = formula[i].macs;
    row.activation = spec.activation;
    row.dropout = spec.dropout;
    row.field = formula[i].field;
    row.activation_bytes = formula[i].activation_bytes;
    out.total_params += row.params;
    out.total_macs += row.macs;
    out.total_activation_bytes += row.activation_bytes;
    out.rows.push_back(row);
  }
  return out;
}

namespace {
std::string ShapeText(const std::vector<int64_t>& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return s;
}
std::string Extras(const SummaryRow& r, const ModelOptions& o) {
  std::string e = ActivationLabel(r.activation);
  if (r.dropout && o.dropout_rate > 0) e += " + dropout " + std::to_string(o.dropout_rate).substr(0, 4);
  if (r.name == "fc8") e = "softmax";
  return e;
}

// What the receptive field, jump and activation columns mean: one item each, for below the table.
std::vector<std::string> ColumnNotes(const Summary& s, bool markdown) {
  const std::string size = std::to_string(s.options.input_size);
  return {
      std::string(markdown ? "receptive field" : "RF (receptive field)") +
          ": the side of the square of input pixels one unit of the layer sees, padding included (so it "
          "can exceed the " + size + " x " + size + " input); \"all\": a fully connected unit sees every "
          "input pixel.",
      "jump: input pixels between neighbouring units, the product of the strides so far.",
      std::string(markdown ? "activations" : "act. KiB") +
          ": one image's output in fp32, in KiB (1,024 bytes); the total, input included, is what a forward "
          "pass holds when it keeps every stage's output, as training does for the backward pass (times "
          "the batch size).",
  };
}

// `text` wrapped at about 100 columns, lines after the first indented by two spaces.
void PrintWrapped(std::ostream& os, const std::string& first_prefix, const std::string& text) {
  std::istringstream words(text);
  std::string word, line = first_prefix;
  bool empty = true;
  while (words >> word) {
    if (!empty && line.size() + 1 + word.size() > 100) {
      os << line << "\n";
      line = "  ";
      empty = true;
    }
    line += (empty ? "" : " ") + word;
    empty = false;
  }
  os << line << "\n";
}
}  // namespace

void PrintSummary(const Summary& s, std::ostream& os) {
  const int width = 116;
  os << (s.options.architecture == Architecture::kTorchvision ? "torchvision's AlexNet" : "AlexNet") << ": input " << s.options.input_size << " x " << s.options.input_size << " x 3, "
     << s.options.num_classes << " classes, " << ActivationLabel(s.options.activation) << ", LRN "
     << (s.options.lrn && s.options.architecture == Architecture::kAlexNet ? "on" : "off") << ", max pooling " << PoolText(s.options) << ", dropout "
     << s.options.dropout_rate << "  (shapes from TensorFlow shape inference)\n";
  os << std::left << std::setw(7) << "layer" << std::setw(9) << "kind" << std::setw(16) << "kernel/stride"
     << std::setw(16) << "output (HxWxC)" << std::right << std::setw(13) << "params" << std::setw(16)
     << "MACs" << std::setw(6) << "RF" << std::setw(6) << "jump" << std::setw(10) << "act. KiB"
     << "  " << std::left << "then\n";
  os << std::string(width, '-') << "\n";
  const ReceptiveField pixel;
  os << std::left << std::setw(7) << "input" << std::setw(9) << "" << std::setw(16) << "" << std::setw(16)
     << ShapeText({s.options.input_size, s.options.input_size, 3}) << std::right << std::setw(13) << ""
     << std::setw(16) << "" << std::setw(6) << ReceptiveFieldText(pixel) << std::setw(6) << JumpText(pixel)
     << std::setw(10) << FormatKiB(s.input_bytes) << "\n";
  for (const SummaryRow& r : s.rows) {
    os << std::left << std::setw(7) << r.name << std::setw(9) << r.kind << std::setw(16) << r.geometry
       << std::setw(16) << ShapeText(r.out_shape) << std::right << std::setw(13)
       << (r.params ? FormatCount(r.params) : "") << std::setw(16) << (r.macs ? FormatCount(r.macs) : "")
       << std::setw(6) << ReceptiveFieldText(r.field) << std::setw(6) << JumpText(r.field) << std::setw(10)
       << FormatKiB(r.activation_bytes);
    if (const std::string then = Extras(r, s.options); !then.empty()) os << "  " << then;
    os << "\n";
  }
  os << std::string(width, '-') << "\n";
  os << std::left << std::setw(48) << "total" << std::right << std::setw(13) << FormatCount(s.total_params)
     << std::setw(16) << FormatCount(s.total_macs) << std::setw(22) << FormatKiB(s.total_activation_bytes) << "\n";
  os << std::fixed << std::setprecision(3) << "forward: " << s.total_macs / 1e9 << " G MACs = "
     << 2 * s.total_macs / 1e9 << " GFLOP per image; training (forward + backward) about "
     << 6 * s.total_macs / 1e9 << " GFLOP per image\n";
  os.unsetf(std::ios::floatfield);
  for (const std::string& note : ColumnNotes(s, false)) PrintWrapped(os, "", note);
}

void PrintSummaryMarkdown(const Summary& s, std::ostream& os) {
  const ReceptiveField pixel;
  os << "| layer | kind | kernel / stride | output (H x W x C) | params | MACs | receptive field | jump "
        "| activations (KiB) | then |\n";
  os << "|---|---|---|---|---:|---:|---:|---:|---:|---|\n";
  os << "| input | | | " << ShapeText({s.options.input_size, s.options.input_size, 3}) << " | | | "
     << ReceptiveFieldText(pixel) << " | " << JumpText(pixel) << " | " << FormatKiB(s.input_bytes) << " | |\n";
  for (const SummaryRow& r : s.rows) {
    os << "| " << r.name << " | " << r.kind << " | " << r.geometry << " | " << ShapeText(r.out_shape) << " | "
       << (r.params ? FormatCount(r.params) : "") << " | " << (r.macs ? FormatCount(r.macs) : "") << " | "
       << ReceptiveFieldText(r.field) << " | " << JumpText(r.field) << " | " << FormatKiB(r.activation_bytes)
       << " | " << Extras(r, s.options) << " |\n";
  }
  os << "| total | | | | " << FormatCount(s.total_params) << " | " << FormatCount(s.total_macs) << " | | | "
     << FormatKiB(s.total_activation_bytes) << " | |\n";
  os << "\n";
  for (const std::string& note : ColumnNotes(s, true)) PrintWrapped(os, "- ", note);
}

}  // namespace alexnet::model
