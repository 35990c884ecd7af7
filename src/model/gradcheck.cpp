#include "model/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include <tensorflow/cc/framework/gradients.h>
#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/graph/graph.h>

#include "model/gradient_fixes.h"
#include "model/train_step.h"
#include "reference/finite_differences.h"
#include "reference/layers.h"

namespace alexnet::model {

namespace ops = tensorflow::ops;
using reference::Entry;
using tensorflow::Output;
using tensorflow::Scope;

GradientGraph::~GradientGraph() {
  if (session_) session_->Close().IgnoreError();
}

namespace {
// The name of a node's first output ("conv1/BiasAdd:0"), or "" when the graph has no such node.
Output NodeOutput(const Scope& root, const std::string& node) {
  for (tensorflow::Node* n : root.graph()->op_nodes())
    if (n->name() == node) return Output(n, 0);
  return Output();
}

const char* ActivationOp(Activation a) { return a == Activation::kTanh ? "Tanh" : "Relu"; }
}  // namespace

Result<std::unique_ptr<GradientGraph>> GradientGraph::Create(const ModelOptions& opts, bool repair_lrn_gradient) {
  if (opts.standardize_input) {
    return Status::BadInput("", "the gradient check starts at conv1: it has no input scaling (--standardize)");
  }
  std::unique_ptr<GradientGraph> g(new GradientGraph());
  g->opts_ = opts;
  ALEXNET_ASSIGN_OR_RETURN(g->layers_, ComputeLayerShapes(opts));
  g->scope_ = std::make_unique<Scope>(Scope::NewRootScope());
  const Scope& root = *g->scope_;
  // The parameters are placeholders named as the training graph's variables ("conv1/weights").
  const ParameterFactory placeholder = [](const Scope& s, const Parameter& p) {
    return ops::Placeholder(s.WithOpName(p.name), tensorflow::DT_FLOAT, ops::Placeholder::Shape(p.shape));
  };
  ALEXNET_RETURN_IF_ERROR(BuildAlexNet(root, opts, /*with_dropout=*/true, placeholder, &g->net_));
  const Loss loss = AddLoss(root, g->net_, opts.num_classes, /*weight_decay=*/0.0f, /*label_smoothing=*/0.0f,
                            "cross_entropy", "loss");
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  g->loss_name_ = loss.cross_entropy.name();
  g->labels_name_ = loss.labels.name();

  // The tensors to differentiate with respect to, in the order of the reference's Gradients.
  std::vector<Output> xs;
  for (const Parameter& p : g->net_.parameters) xs.push_back(p.value);
  const size_t n = g->layers_.size();
  for (size_t i = 0; i < n; ++i) xs.push_back(i == 0 ? g->net_.input : g->net_.stages[i - 1].second);
  std::vector<bool> has_pre(n, false);
  for (size_t i = 0; i < n; ++i) {
    const LayerSpec& spec = g->layers_[i].spec;
    const bool dropout = spec.dropout && opts.dropout_rate > 0;
    g->mask_names_.push_back(dropout ? std::string(spec.name) + "/dropout/Floor:0" : "");
    if (spec.activation == Activation::kNone) {
      g->activated_names_.push_back(g->net_.stages[i].second.name());
      continue;
    }
    const Output activated = NodeOutput(root, std::string(spec.name) + "/" + ActivationOp(spec.activation));
    const Output pre = NodeOutput(root, std::string(spec.name) + "/BiasAdd");
    if (!activated.node() || !pre.node()) return Status::Internal(std::string("no activation found in ") + spec.name);
    g->activated_names_.push_back(activated.name());
    xs.push_back(pre);
    has_pre[i] = true;
  }
  xs.push_back(g->net_.logits);
  std::vector<Output> grads;
  ALEXNET_RETURN_IF_TF_ERROR(tensorflow::AddSymbolicGradients(root, {loss.cross_entropy}, xs, &grads));
  size_t k = 0;
  for (size_t p = 0; p < g->net_.parameters.size(); ++p) g->param_grad_names_.push_back(grads[k++].name());
  for (size_t i = 0; i < n; ++i) g->input_grad_names_.push_back(grads[k++].name());
  for (size_t i = 0; i < n; ++i) g->pre_activation_grad_names_.push_back(has_pre[i] ? grads[k++].name() : "");
  g->logits_grad_name_ = grads[k++].name();

  tensorflow::GraphDef gd;
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&gd));
  if (repair_lrn_gradient) g->repaired_ = FixLrnGradientAttributes(&gd);
  g->session_.reset(tensorflow::NewSession(tensorflow::SessionOptions()));
  if (!g->session_) return Status::Internal("could not create a TensorFlow session");
  ALEXNET_RETURN_IF_TF_ERROR(g->session_->Create(gd));
  return g;
}

Status GradientGraph::Run(const reference::Network& net, const reference::Tensor& images,
                          const std::vector<int>& labels, const reference::DropoutMasks& dropout,
                          TensorFlowPass* pass) {
  const size_t n = layers_.size();
  if (net.params.size() != net_.parameters.size() || net.layers.size() != n) {
    return Status::Internal("the reference network is not the graph's table");
  }
  std::vector<std::pair<std::string, tensorflow::Tensor>> feeds;
  feeds.emplace_back(net_.input.name(), ToTensorFlow(images));
  tensorflow::Tensor tlabels(tensorflow::DT_INT32, {static_cast<int64_t>(labels.size())});
  for (size_t b = 0; b < labels.size(); ++b) tlabels.flat<int32_t>()(b) = labels[b];
  feeds.emplace_back(labels_name_, tlabels);
  for (size_t k = 0; k < net.params.size(); ++k) {
    if (net.params[k].name != net_.parameters[k].name) {
      return Status::Internal("parameter " + net.params[k].name + " is " + net_.parameters[k].name + " in the graph");
    }
    feeds.emplace_back(net_.parameters[k].value.name(), ToTensorFlow(net.params[k].value));
  }
  tensorflow::Tensor keep(tensorflow::DT_FLOAT, {});
  keep.scalar<float>()() = static_cast<float>(dropout.keep_prob);
  feeds.emplace_back(net_.keep_prob.name(), keep);
  // Without masks dropout is off: keep_prob 1 makes the graph's own mask all ones.
  if (dropout.masks.empty() && dropout.keep_prob != 1.0) return Status::Internal("dropout without masks");
  for (size_t i = 0; i < n && !dropout.masks.empty(); ++i) {
    if (mask_names_[i].empty()) continue;
    if (i >= dropout.masks.size() || dropout.masks[i].size() == 0) {
      return Status::Internal(std::string("no dropout mask given for ") + layers_[i].spec.name);
    }
    feeds.emplace_back(mask_names_[i], ToTensorFlow(dropout.masks[i]));
  }

  std::vector<std::string> fetch = {loss_name_};
  fetch.insert(fetch.end(), activated_names_.begin(), activated_names_.end());
  for (const auto& stage : net_.stages) fetch.push_back(stage.second.name());
  fetch.insert(fetch.end(), param_grad_names_.begin(), param_grad_names_.end());
  fetch.insert(fetch.end(), input_grad_names_.begin(), input_grad_names_.end());
  for (const std::string& name : pre_activation_grad_names_)
    if (!name.empty()) fetch.push_back(name);
  fetch.push_back(logits_grad_name_);
  std::vector<tensorflow::Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run(feeds, fetch, {}, &out));

  size_t k = 0;
  TensorFlowPass& p = *pass;
  p = TensorFlowPass{};
  p.forward.loss = out[k++].scalar<float>()();
  p.forward.images = images;
  for (size_t i = 0; i < n; ++i) p.forward.activated.push_back(ToReference(out[k++]));
  for (size_t i = 0; i < n; ++i) p.forward.output.push_back(ToReference(out[k++]));
  p.forward.probabilities = reference::SoftmaxForward(p.forward.output.back());
  for (size_t j = 0; j < net.params.size(); ++j) p.gradients.params.push_back(ToReference(out[k++]));
  for (size_t i = 0; i < n; ++i) p.gradients.input.push_back(ToReference(out[k++]));
  for (size_t i = 0; i < n; ++i) {
    p.gradients.pre_activation.push_back(pre_activation_grad_names_[i].empty() ? reference::Tensor()
                                                                               : ToReference(out[k++]));
  }
  p.gradients.logits = ToReference(out[k++]);
  return Status::Ok();
}

// ---- the check ----

std::vector<std::string> GradCheckLayerNames(const ModelOptions& opts) {
  std::vector<std::string> names;
  for (const LayerSpec& spec : AlexNetLayers(opts)) names.push_back(spec.name);
  names.push_back("loss");
  return names;
}

namespace {

// Normalised error allowed in every column. TensorFlow and hand differ by TensorFlow's float32
// rounding (sums of up to a few thousand products): at most 7e-7 of the largest gradient in our
// runs (inputs 67 to 131, seeds 1 to 7, batch 2 and 4, every variant of the table). The finite
// differences carry the truncation and rounding of a central difference: at most 1e-5. A wrong
// gradient is off by far more: the unrepaired LRN gradient by about 1.
constexpr double kThreshold = 1e-4;

double MaxAbs(const reference::Tensor& t) {
  double m = 0;
  for (double v : t.data) m = std::max(m, std::abs(v));
  return m;
}

// Compares one gradient three ways. `point` is the tensor the gradient is taken with respect to,
// which `loss` reads (the finite differences move its values one at a time).
GradCheckRow CheckOne(const std::string& layer, const std::string& name, const reference::Tensor& tf,
                      const reference::Tensor& hand, reference::Tensor* point, const std::function<double()>& loss,
                      int samples, std::mt19937_64& rng) {
  GradCheckRow row;
  row.layer = layer;
  row.name = name;
  row.shape = reference::ShapeString(tf);
  row.scale = std::max(MaxAbs(tf), MaxAbs(hand));
  const double scale = std::max(row.scale, 1e-30);
  if (!reference::SameShape(tf, hand) || !reference::SameShape(tf, *point)) {
    row.tf_vs_hand = row.tf_vs_fd = row.hand_vs_fd = INFINITY;
    row.pass = false;
    return row;
  }
  row.tf_vs_hand = reference::Compare(tf, hand).max_abs / scale;
  // The values to perturb: the largest gradient of each side, then random ones among those where
  // either side's gradient is not 0.
  std::vector<size_t> candidates;
  size_t largest_tf = 0, largest_hand = 0;
  for (size_t i = 0; i < tf.size(); ++i) {
    if (std::abs(tf.data[i]) > std::abs(tf.data[largest_tf])) largest_tf = i;
    if (std::abs(hand.data[i]) > std::abs(hand.data[largest_hand])) largest_hand = i;
    if (tf.data[i] != 0 || hand.data[i] != 0) candidates.push_back(i);
  }
  std::vector<size_t> picked;
  for (size_t i : {largest_tf, largest_hand})
    if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  for (size_t i : candidates) {
    if (picked.size() >= size_t(samples)) break;
    if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
  }
  const double h = reference::FiniteDifferenceStep(*point);
  double tf_diff = 0, hand_diff = 0;
  for (size_t i : picked) {
    const double fd = reference::CentralDifference(point->data[i], h, loss);
    tf_diff = std::max(tf_diff, std::abs(tf.data[i] - fd));
    hand_diff = std::max(hand_diff, std::abs(hand.data[i] - fd));
  }
  row.samples = static_cast<int>(picked.size());
  row.tf_vs_fd = tf_diff / scale;
  row.hand_vs_fd = hand_diff / scale;
  row.pass = row.tf_vs_hand <= kThreshold && row.tf_vs_fd <= kThreshold && row.hand_vs_fd <= kThreshold;
  return row;
}

}  // namespace

bool GradCheckReport::pass() const {
  return std::all_of(rows.begin(), rows.end(), [](const GradCheckRow& r) { return r.pass; });
}

Result<GradCheckReport> RunGradCheck(const GradCheckOptions& options) {
  GradCheckReport report;
  report.options = options;
  report.threshold = kThreshold;
  // The random pixels' spread is the input's: --init he scales conv1 to it, as training scales it
  // to the data's, so the logits (and the loss) are of the size training starts from.
  ModelOptions mo = options.model;
  mo.input_stddev = static_cast<float>(options.pixel_stddev);
  const std::vector<std::string> names = GradCheckLayerNames(mo);
  if (!options.layer.empty() && std::find(names.begin(), names.end(), options.layer) == names.end()) {
    return Status::BadInput("", "no layer named " + options.layer);
  }
  if (options.batch < 1 || options.samples < 1) return Status::BadInput("", "batch and samples must be at least 1");

  // The same parameters, images, labels and dropout masks on both sides, in float32 values.
  ALEXNET_ASSIGN_OR_RETURN(reference::Network net, reference::MakeNetwork(mo));
  reference::InitializeParameters(mo, static_cast<uint64_t>(mo.seed), &net);
  for (reference::Parameter& p : net.params) RoundToFloat(&p.value);
  std::mt19937_64 rng(static_cast<uint64_t>(mo.seed) + 1);
  reference::Tensor images({options.batch, mo.input_size, mo.input_size, 3});
  std::normal_distribution<double> pixel(0.0, options.pixel_stddev);
  for (double& v : images.data) v = pixel(rng);
  RoundToFloat(&images);
  std::vector<int> labels(options.batch);
  std::uniform_int_distribution<int> label(0, mo.num_classes - 1);
  for (int& l : labels) l = label(rng);
  reference::DropoutMasks dropout;
  if (mo.dropout_rate > 0) {
    const double keep = static_cast<float>(1.0f - mo.dropout_rate);
    dropout = reference::DrawDropoutMasks(net, options.batch, keep, static_cast<uint64_t>(mo.seed) + 2);
  }

  ALEXNET_ASSIGN_OR_RETURN(std::unique_ptr<GradientGraph> graph,
                           GradientGraph::Create(mo, !options.unrepaired_lrn_gradient));
  report.lrn_gradients_repaired = graph->lrn_gradients_repaired();
  TensorFlowPass tf;
  ALEXNET_RETURN_IF_ERROR(graph->Run(net, images, labels, dropout, &tf));
  report.tf_loss = tf.forward.loss;
  report.reference_loss = reference::Forward(net, images, labels, dropout).loss;
  const reference::Gradients hand = reference::Backward(net, tf.forward, labels, dropout);
  // The finite differences follow TensorFlow's forward pass through every ReLU and pooling window
  // (reference/network.h, Switches): where float32 and double would break a near-tie differently,
  // the two losses would be different functions there, and the differences would measure the wrong one.
  const reference::Switches held = reference::SwitchesOf(net, tf.forward);

  std::mt19937_64 pick(static_cast<uint64_t>(mo.seed) + 3);
  const size_t n = net.layers.size();
  for (size_t i = 0; i < n; ++i) {
    const LayerSpec& spec = net.layers[i].spec;
    const std::string layer = spec.name;
    if (!options.layer.empty() && options.layer != layer) continue;
    // The layer's input as TensorFlow computed it: where the finite differences enter.
    reference::Tensor input = i == 0 ? tf.forward.images : tf.forward.output[i - 1];
    auto from_input = [&] { return reference::LossFrom(net, i, Entry::kInput, input, labels, dropout, &held); };
    if (const int w = net.weights_index[i]; w >= 0) {
      for (int k : {w, w + 1}) {
        report.rows.push_back(CheckOne(layer, net.params[k].name, tf.gradients.params[k], hand.params[k],
                                       &net.params[k].value, from_input, options.samples, pick));
      }
    }
    report.rows.push_back(CheckOne(layer, layer + " input" + (i == 0 ? " (images)" : ""), tf.gradients.input[i],
                                   hand.input[i], &input, from_input, options.samples, pick));
    if (spec.activation != Activation::kNone) {
      reference::Tensor pre = reference::LayerForward(net, i, i == 0 ? tf.forward.images : tf.forward.output[i - 1]);
      auto from_pre = [&] { return reference::LossFrom(net, i, Entry::kPreActivation, pre, labels, dropout, &held); };
      report.rows.push_back(CheckOne(layer, layer + " " + ActivationName(spec.activation) + " input",
                                     tf.gradients.pre_activation[i], hand.pre_activation[i], &pre, from_pre,
                                     options.samples, pick));
    }
  }
  if (options.layer.empty() || options.layer == "loss") {
    reference::Tensor logits = tf.forward.output.back();
    auto from_logits = [&] { return reference::LossFrom(net, n, Entry::kInput, logits, labels, dropout, &held); };
    report.rows.push_back(CheckOne("loss", "loss input (logits)", tf.gradients.logits, hand.logits, &logits,
                                   from_logits, options.samples, pick));
  }
  return report;
}

namespace {
std::string Sci(double v) {
  if (std::isinf(v)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}
}  // namespace

std::string FormatGradCheck(const GradCheckReport& r) {
  const GradCheckOptions& o = r.options;
  const ModelOptions& mo = o.model;
  std::ostringstream s;
  char line[256];
  s << "alexnet gradcheck: input " << mo.input_size << " x " << mo.input_size << " x 3, " << mo.num_classes
    << " classes, batch " << o.batch << ", init " << InitName(mo.init) << ", seed " << mo.seed << ", LRN kernel "
    << LrnKernelName(mo.lrn_kernel) << "\n";
  s << "loss: mean softmax cross-entropy (no weight decay) of random images (pixels N(0, " << o.pixel_stddev
    << ")) and labels";
  if (mo.dropout_rate > 0) {
    s << ",\n      dropout " << mo.dropout_rate << " on fc6 and fc7 with the same fixed masks on both sides";
  }
  std::snprintf(line, sizeof line, "\n      TensorFlow %.6f (float32), hand forward pass %.6f (double)\n", r.tf_loss,
                r.reference_loss);
  s << line;
  if (!o.unrepaired_lrn_gradient) {
    s << "LRN gradient: repaired (FixLrnGradientAttributes, " << r.lrn_gradients_repaired << " LRNGrad nodes)\n";
  } else {
    s << "LRN gradient: NOT repaired (--unrepaired-lrn-gradient): TensorFlow 2.21's C++ gradient runs LRNGrad with\n"
         "  the op's default constants (depth_radius 5, bias 1, alpha 1, beta 0.5), not the forward op's\n";
  }
  s << "The gradient of the loss with respect to each tensor, three ways:\n"
       "  TF    TensorFlow's symbolic gradient (AddSymbolicGradients) of the graph built from the layer table,\n"
       "        float32\n"
       "  hand  the backward pass written out in src/reference, in double, on TensorFlow's activations\n"
       "  FD    central differences (L(x + h) - L(x - h)) / 2h of the loss computed by src/reference's forward\n"
       "        pass in double (in float32, rounding would swamp the differences), through the same ReLU and\n"
       "        pooling switches as TensorFlow's forward pass, at "
    << o.samples
    << " values of each tensor: its largest\n"
       "        gradients and random values where a gradient is not 0\n"
       "Errors are normalised: max |a - b| / max |gradient| (over the tensor for TF vs hand, over the sampled\n"
       "values for FD); threshold "
    << Sci(r.threshold) << ".\n\n";
  std::snprintf(line, sizeof line, "%-24s %-14s %10s %11s %10s %11s %4s\n", "gradient wrt", "shape", "max|grad|",
                "TF vs hand", "TF vs FD", "hand vs FD", "FD n");
  s << line;
  int failed = 0;
  for (const GradCheckRow& row : r.rows) {
    std::snprintf(line, sizeof line, "%-24s %-14s %10s %11s %10s %11s %4d%s\n", row.name.c_str(), row.shape.c_str(),
                  Sci(row.scale).c_str(), Sci(row.tf_vs_hand).c_str(), Sci(row.tf_vs_fd).c_str(),
                  Sci(row.hand_vs_fd).c_str(), row.samples, row.pass ? "" : "  FAIL");
    s << line;
    failed += row.pass ? 0 : 1;
  }
  s << "\n";
  if (failed == 0) {
    s << "all " << r.rows.size() << " gradients agree within " << Sci(r.threshold) << "\n";
  } else {
    s << failed << " of " << r.rows.size() << " gradients over the threshold " << Sci(r.threshold) << "\n";
  }
  return s.str();
}

Status GradCheckVerdict(const GradCheckReport& r) {
  std::vector<const GradCheckRow*> failed;
  for (const GradCheckRow& row : r.rows)
    if (!row.pass) failed.push_back(&row);
  if (failed.empty()) return Status::Ok();
  // The failure nearest the loss is where the error enters; the ones below inherit it.
  const GradCheckRow& first = *failed.back();
  std::ostringstream msg;
  if (first.hand_vs_fd <= r.threshold) {
    msg << "TensorFlow's gradient with respect to " << first.name << " is wrong: it differs from the hand backward"
        << " pass by " << Sci(first.tf_vs_hand) << " and from finite differences by " << Sci(first.tf_vs_fd)
        << ", which agree with each other (" << Sci(first.hand_vs_fd) << "; threshold " << Sci(r.threshold) << ")";
  } else {
    msg << "the gradients with respect to " << first.name << " disagree: TensorFlow vs hand " << Sci(first.tf_vs_hand)
        << ", TensorFlow vs finite differences " << Sci(first.tf_vs_fd) << ", hand vs finite differences "
        << Sci(first.hand_vs_fd) << " (threshold " << Sci(r.threshold) << ")";
  }
  if (failed.size() > 1) {
    msg << "; also over the threshold:";
    for (size_t i = failed.size() - 1; i-- > 0;) msg << " " << failed[i]->name << (i ? "," : "");
  }
  return Status::Internal(msg.str());
}

}  // namespace alexnet::model
