#include "model/timing.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <tensorflow/core/framework/graph.pb.h>
#include <tensorflow/core/framework/node_def.pb.h>
#include <tensorflow/core/framework/step_stats.pb.h>

#include "model/session.h"

namespace alexnet::model {

namespace {

using tensorflow::Tensor;

// The table's layer a forward node belongs to by its name ("conv1/Conv2D", "lrn1", "pool1_1"), or "".
std::string ForwardLayer(const std::string& node) {
  for (const LayerSpec& spec : AlexNetLayers()) {
    const std::string name = spec.name;
    if (node.compare(0, name.size(), name) != 0) continue;
    const std::string rest = node.substr(name.size());
    if (rest.empty() || rest[0] == '/') return name;
    if (rest[0] == '_' && rest.find_first_not_of("0123456789", 1) == std::string::npos) return name;
  }
  return "";
}

int LayerIndex(const std::string& layer) {
  const auto& layers = AlexNetLayers();
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layer == layers[i].name) return static_cast<int>(i);
  }
  return -1;
}

// The deepest (latest in the table) layer among `candidates`, or "".
std::string Deepest(const std::vector<std::string>& candidates) {
  std::string best;
  for (const std::string& c : candidates) {
    if (LayerIndex(c) > LayerIndex(best)) best = c;
  }
  return best;
}

std::string InputNode(const std::string& input) {
  const size_t colon = input.find(':');
  return input.substr(0, colon);
}

// Gradient ops whose forward-pass input is the previous layer's output: they belong to the
// layer whose output gradient they read.
bool ReadsThePreviousLayer(const std::string& op) { return op == "Conv2DBackpropFilter" || op == "MatMul"; }

// The forward ops of the loss: cross-entropy and weight decay.
bool IsLossForward(const tensorflow::NodeDef& n) {
  static const std::set<std::string> kOps = {"L2Loss", "SoftmaxCrossEntropyWithLogits", "OneHot"};
  return kOps.count(n.op()) > 0 || n.name() == "loss" || n.name() == "cross_entropy";
}

// Node name -> the row it is counted in: a layer of the table, "loss" or "update" (see timing.h).
std::map<std::string, std::string> AssignRows(const tensorflow::GraphDef& graph, std::set<std::string>* forward_nodes) {
  std::map<std::string, const tensorflow::NodeDef*> nodes;
  for (const auto& n : graph.node()) {
    nodes[n.name()] = &n;
    if (!ForwardLayer(n.name()).empty() || IsLossForward(n)) forward_nodes->insert(n.name());
  }
  std::map<std::string, std::string> row;
  for (int pass = 0; pass < 2; ++pass) {  // twice, in case the GraphDef is not in topological order
    for (const auto& n : graph.node()) {
      std::string& r = row[n.name()];
      if (!r.empty()) continue;
      if (n.op() == "ApplyMomentum") { r = "update"; continue; }
      if (IsLossForward(n)) { r = "loss"; continue; }
      if (!(r = ForwardLayer(n.name())).empty()) continue;
      std::vector<std::string> forward, gradient;
      for (const std::string& in : n.input()) {
        if (in.empty() || in[0] == '^') continue;
        const std::string src = InputNode(in);
        const auto it = nodes.find(src);
        const std::string layer = ForwardLayer(src);
        if (it != nodes.end() && it->second->op() == "VariableV2" && !layer.empty()) { r = layer; break; }
        if (!layer.empty()) forward.push_back(layer);
        const auto assigned = row.find(src);
        if (layer.empty() && assigned != row.end() && LayerIndex(assigned->second) >= 0) {
          gradient.push_back(assigned->second);
        }
      }
      if (!r.empty()) continue;
      if (!ReadsThePreviousLayer(n.op())) r = Deepest(forward);
      if (r.empty()) r = Deepest(gradient);
    }
  }
  return row;
}

Tensor RandomImages(const TimingOptions& o) {
  Tensor images(tensorflow::DT_FLOAT, {o.batch, o.model.input_size, o.model.input_size, 3});
  std::mt19937 rng(static_cast<unsigned>(o.model.seed));
  std::normal_distribution<float> pixel(0.0f, 50.0f);
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = pixel(rng);
  return images;
}

template <typename F>
Result<double> MeanMilliseconds(int iterations, F&& run) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) ALEXNET_RETURN_IF_ERROR(run());
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iterations;
}

// Adds a traced step's op times to the rows (ms per step once divided by the steps).
void AddStepStats(const tensorflow::RunMetadata& trace, const std::map<std::string, std::string>& rows,
                  const std::set<std::string>& forward_nodes, std::map<std::string, LayerTime>* times,
                  double* total_ms) {
  for (const auto& device : trace.step_stats().dev_stats()) {
    for (const auto& node : device.node_stats()) {
      const int64_t micros = node.op_end_rel_micros() > 0 ? node.op_end_rel_micros() - node.op_start_rel_micros()
                                                          : node.all_end_rel_micros();
      std::string name = node.node_name();
      auto it = rows.find(name);
      if (it == rows.end()) it = rows.find(name.substr(0, name.find('-')));  // bf16 casts: "<node>-0-CastToBf16-..."
      const std::string row = it != rows.end() && !it->second.empty() ? it->second : "other";
      const bool forward = forward_nodes.count(it != rows.end() ? it->first : name) > 0;
      LayerTime& t = (*times)[row];
      t.layer = row;
      (forward ? t.forward_ms : t.backward_ms) += micros / 1000.0;
      *total_ms += micros / 1000.0;
    }
  }
}

// One random batch, and labels cycling through the classes.
struct RandomBatch {
  Tensor images, labels;
  explicit RandomBatch(const TimingOptions& o) : images(RandomImages(o)), labels(tensorflow::DT_INT32, {o.batch}) {
    for (int i = 0; i < o.batch; ++i) labels.flat<int32_t>()(i) = i % o.model.num_classes;
  }
};

// Traces `o.traced` training steps and fills the report's rows (ms per step) and totals.
Status TraceLayers(const TimingOptions& o, ModelSession* session, const RandomBatch& batch, TimingReport* report) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<LayerShape> shapes, ComputeLayerShapes(o.model));
  std::set<std::string> forward_nodes;
  const auto rows = AssignRows(session->graph_def(), &forward_nodes);
  std::map<std::string, LayerTime> times;
  double total = 0;
  StepResult r;
  auto traced = [&]() -> Status {
    tensorflow::RunMetadata trace;
    ALEXNET_RETURN_IF_ERROR(session->TrainStep(batch.images, batch.labels, 1e-4f, &r, &trace));
    AddStepStats(trace, rows, forward_nodes, &times, &total);
    return Status::Ok();
  };
  ALEXNET_ASSIGN_OR_RETURN(report->traced_step_ms, MeanMilliseconds(o.traced, traced));
  report->op_time_ms = total / o.traced;
  for (const LayerShape& s : shapes) {
    LayerTime t = times[s.spec.name];
    t.layer = s.spec.name;
    t.macs = s.macs;
    report->rows.push_back(t);
  }
  for (const char* extra : {"loss", "update", "other"}) {
    report->rows.push_back(times[extra]);
    report->rows.back().layer = extra;
  }
  for (LayerTime& t : report->rows) t.forward_ms /= o.traced, t.backward_ms /= o.traced;
  return Status::Ok();
}

}  // namespace

Result<TimingReport> TimeLayers(const TimingOptions& o) {
  SessionConfig sc;
  sc.model = o.model;
  sc.training = true;
  sc.threads = o.threads;
  sc.train_layers = o.train_layers;
  ALEXNET_RETURN_IF_ERROR(ComputeLayerShapes(o.model).status());
  ALEXNET_ASSIGN_OR_RETURN(std::unique_ptr<ModelSession> session, ModelSession::Create(sc));
  ALEXNET_RETURN_IF_ERROR(session->Initialize());
  const RandomBatch batch(o);
  StepResult r;
  Tensor probabilities;
  auto train = [&] { return session->TrainStep(batch.images, batch.labels, 1e-4f, &r); };
  auto infer = [&] { return session->Predict(batch.images, &probabilities); };
  ALEXNET_RETURN_IF_ERROR(train());  // warm-up: graph optimisation, oneDNN primitives
  ALEXNET_RETURN_IF_ERROR(infer());
  TimingReport report;
  report.precision = session->config().model.precision;
  report.batch = o.batch;
  report.input_size = o.model.input_size;
  report.train_layers = o.train_layers;
  ALEXNET_ASSIGN_OR_RETURN(report.train_step_ms, MeanMilliseconds(o.iterations, train));
  ALEXNET_ASSIGN_OR_RETURN(report.forward_ms, MeanMilliseconds(o.iterations, infer));
  if (o.traced == 0) return report;
  // The speeds above are of the session as training uses it, where independent ops (a layer's
  // input and weight gradients) run side by side on a shared pool of threads and each op's time
  // includes the other's. The traced steps run their ops one at a time instead, so that each
  // op's time is its own and the table's rows add up to the step.
  session.reset();
  sc.one_op_at_a_time = true;
  ALEXNET_ASSIGN_OR_RETURN(session, ModelSession::Create(sc));
  ALEXNET_RETURN_IF_ERROR(session->Initialize());
  ALEXNET_RETURN_IF_ERROR(train());
  ALEXNET_RETURN_IF_ERROR(TraceLayers(o, session.get(), batch, &report));
  return report;
}

namespace {

// The per-layer table and the traced step's totals.
void PrintLayerTable(const TimingReport& t, std::ostream& out) {
  char line[512];
  std::snprintf(line, sizeof line, "%-7s %11s %12s %14s %12s %12s\n", "layer", "forward ms", "backward ms",
                "MACs/image", "fwd GFLOP/s", "bwd GFLOP/s");
  out << line;
  double forward = 0, backward = 0;
  // The lowest trained layer: conv1, or with frozen layers the first of train_layers.
  const std::string lowest = t.train_layers.empty() ? AlexNetLayers().front().name : t.train_layers.front();
  for (const LayerTime& r : t.rows) {
    // Backward does up to two products of the forward's size: the weight gradient (trained layers
    // only) and the input gradient (only above the lowest trained layer).
    const int products = int(IsTrained(r.layer, t.train_layers)) + int(LayerIndex(r.layer) > LayerIndex(lowest));
    const double backward_macs = double(r.macs) * products;
    auto rate = [&](double macs, double ms) {
      return macs > 0 && ms > 0 ? std::to_string(static_cast<int>(2 * macs * t.batch / (ms * 1e6) + 0.5)) : "-";
    };
    std::snprintf(line, sizeof line, "%-7s %11.1f %12.1f %14s %12s %12s\n", r.layer.c_str(), r.forward_ms,
                  r.backward_ms, r.macs ? std::to_string(r.macs).c_str() : "-", rate(r.macs, r.forward_ms).c_str(),
                  rate(backward_macs, r.backward_ms).c_str());
    out << line;
    forward += r.forward_ms;
    backward += r.backward_ms;
  }
  std::snprintf(line, sizeof line,
                "%-7s %11.1f %12.1f\nop time %.0f ms in a traced step of %.0f ms wall (traced ops run one at a "
                "time, each on every core; tracing adds time)\n",
                "total", forward, backward, t.op_time_ms, t.traced_step_ms);
  out << line;
}

}  // namespace

std::string FormatTiming(const TimingReport& t) {
  std::ostringstream out;
  if (!t.rows.empty()) PrintLayerTable(t, out);
  char line[256];
  std::snprintf(line, sizeof line, "training step: %.0f ms, %.1f images/s\ninference:     %.0f ms, %.1f images/s\n",
                t.train_step_ms, t.TrainImagesPerSecond(), t.forward_ms, t.InferenceImagesPerSecond());
  out << line;
  return out.str();
}

}  // namespace alexnet::model
