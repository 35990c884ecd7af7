#include "model/graph.h"

#include <tensorflow/cc/ops/standard_ops.h>

#include "model/lrn_kernel.h"

namespace alexnet::model {

namespace ops = tensorflow::ops;
using tensorflow::Output;
using tensorflow::Scope;

tensorflow::Output MakeVariable(const Scope& scope, const Parameter& p) {
  return ops::Variable(scope.WithOpName(p.name), p.shape, tensorflow::DT_FLOAT);
}

int64_t Network::ParameterCount() const {
  int64_t n = 0;
  for (const Parameter& p : parameters) n += p.shape.num_elements();
  return n;
}

namespace {

// The padding the table asks for, in TensorFlow's vocabulary. SAME equals symmetric padding
// (k-1)/2 at stride 1, which covers conv2-conv5; other cases pad explicitly with a Pad op (which
// OpenCV's TensorFlow importer also understands, unlike EXPLICIT padding).
Output PadFor(const Scope& s, Output x, const LayerSpec& spec, std::string* padding) {
  if (spec.pad == 0) {
    *padding = "VALID";
  } else if (spec.stride == 1 && 2 * spec.pad == spec.kernel - 1) {
    *padding = "SAME";
  } else {
    *padding = "VALID";
    x = ops::Pad(s.WithOpName("pad"), x,
                 ops::Const(s, {{0, 0}, {spec.pad, spec.pad}, {spec.pad, spec.pad}, {0, 0}}));
  }
  return x;
}

// One layer of the table at a time, each kind in its own function, as Caffe has a file per
// layer kind. Node names ("conv1/Conv2D", "fc6/Relu", "fc8/logits", ...) are part of the
// interface: checkpoints, the frozen graph and the tests refer to them.
class LayerBuilder {
 public:
  LayerBuilder(const Scope& root, const ModelOptions& opts, const ParameterFactory& make_parameter, Network* net)
      : root_(root), opts_(opts), make_parameter_(make_parameter), net_(net) {}

  Output Layer(const LayerShape& shape, Output x, int layer_index, bool with_dropout) {
    const LayerSpec& spec = shape.spec;
    const Scope s = root_.NewSubScope(spec.name);
    switch (spec.kind) {
      case LayerKind::kConv: x = Convolution(s, shape, x); break;
      case LayerKind::kLrn: x = LocalResponseNorm(spec, x); break;
      case LayerKind::kMaxPool: x = MaxPool(spec, x); break;
      case LayerKind::kFullyConnected: x = FullyConnected(s, shape, x); break;
    }
    x = Activate(s, spec.activation, x);
    if (spec.dropout && with_dropout && opts_.dropout_rate > 0.0f) x = Dropout(s, x, layer_index);
    return x;
  }

 private:
  // A trainable tensor named "<layer>/<what>", made by the factory (Variable or Const).
  Output AddParameter(const LayerSpec& spec, const char* what, tensorflow::TensorShape tshape, bool weight,
                      int64_t fan_in) {
    Parameter p{std::string(spec.name) + "/" + what, tshape, weight, spec.bias_one ? 1.0f : 0.0f, fan_in, Output()};
    p.value = make_parameter_(root_, p);
    net_->parameters.push_back(p);
    return p.value;
  }

  // weights [k, k, in, out] (HWIO), stride s, the table's padding, plus biases [out].
  Output Convolution(const Scope& s, const LayerShape& shape, Output x) {
    const LayerSpec& spec = shape.spec;
    const int64_t fan_in = int64_t(spec.kernel) * spec.kernel * shape.in_c;
    Output w = AddParameter(spec, "weights", {spec.kernel, spec.kernel, shape.in_c, shape.out_c}, true, fan_in);
    Output b = AddParameter(spec, "biases", {shape.out_c}, false, fan_in);
    std::string padding;
    x = PadFor(s, x, spec, &padding);
    x = ops::Conv2D(s.WithOpName("Conv2D"), x, w, {1, spec.stride, spec.stride, 1}, padding);
    return ops::BiasAdd(s.WithOpName("BiasAdd"), x, b);
  }

  // Across channels: b = a / (bias + alpha * sum of a^2 over 2 * depth_radius + 1 maps)^beta.
  // TensorFlow's op, on our CPU kernel unless asked otherwise (lrn_kernel.h).
  Output LocalResponseNorm(const LayerSpec& spec, Output x) {
    const LrnParams& lrn = opts_.lrn_params;
    Scope s = root_.WithOpName(spec.name);
    if (opts_.lrn_kernel == LrnKernel::kOwn) s = s.WithKernelLabel(OwnLrnKernelLabel());
    return ops::LRN(s, x,
                    ops::LRN::DepthRadius(lrn.depth_radius).Bias(lrn.bias).Alpha(lrn.alpha).Beta(lrn.beta));
  }

  // The row's nonlinearity, named after its op ("conv1/Relu", "fc6/Tanh"): dropout follows it.
  static Output Activate(const Scope& s, Activation a, Output x) {
    switch (a) {
      case Activation::kRelu: return ops::Relu(s.WithOpName("Relu"), x);
      case Activation::kTanh: return ops::Tanh(s.WithOpName("Tanh"), x);
      case Activation::kNone: break;
    }
    return x;
  }

  // VALID pooling, overlapping when the stride is smaller than the window (3/2 in the paper).
  Output MaxPool(const LayerSpec& spec, Output x) {
    return ops::MaxPool(root_.WithOpName(spec.name), x, {1, spec.kernel, spec.kernel, 1},
                        {1, spec.stride, spec.stride, 1}, "VALID");
  }

  // weights [in, out] and biases [out]; the first one flattens the feature maps.
  Output FullyConnected(const Scope& s, const LayerShape& shape, Output x) {
    const LayerSpec& spec = shape.spec;
    const int64_t in = int64_t(shape.in_h) * shape.in_w * shape.in_c;
    if (!flat_) {
      // Flatten NHWC feature maps (pool5: 6 x 6 x 256 = 9216) into a vector per image.
      x = ops::Reshape(s.WithOpName("flatten"), x, ops::Const(s, {-1, static_cast<int>(in)}));
      flat_ = true;
    }
    Output w = AddParameter(spec, "weights", {in, shape.out_c}, true, in);
    Output b = AddParameter(spec, "biases", {shape.out_c}, false, in);
    x = ops::MatMul(s.WithOpName("MatMul"), x, w);
    return ops::BiasAdd(s.WithOpName(spec.activation != Activation::kNone ? "BiasAdd" : "logits"), x, b);
  }

  // Inverted dropout: keep each unit with probability keep_prob and scale by 1/keep_prob, so
  // inference (keep_prob = 1: floor(1 + u) = 1 for u in [0, 1)) is the identity.
  Output Dropout(const Scope& s, Output x, int layer_index) {
    const Scope d = s.NewSubScope("dropout");
    Output u = ops::RandomUniform(d, ops::Shape(d, x), tensorflow::DT_FLOAT,
                                  ops::RandomUniform::Seed(opts_.seed).Seed2(layer_index));
    Output mask = ops::Floor(d, ops::Add(d, u, net_->keep_prob));
    return ops::Mul(d.WithOpName("output"), ops::Div(d, x, net_->keep_prob), mask);
  }

  const Scope& root_;
  const ModelOptions& opts_;
  const ParameterFactory& make_parameter_;
  Network* net_;
  bool flat_ = false;  // true once the feature maps are vectors (after the first FC layer)
};

}  // namespace

Status BuildAlexNet(const Scope& root, const ModelOptions& opts, bool with_dropout,
                    const ParameterFactory& make_parameter, Network* net) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<LayerShape> shapes, ComputeLayerShapes(opts));
  *net = Network{};
  const int size = opts.input_size;
  net->input = ops::Placeholder(root.WithOpName("input"), tensorflow::DT_FLOAT,
                                ops::Placeholder::Shape({-1, size, size, 3}));
  net->keep_prob = ops::PlaceholderWithDefault(root.WithOpName("keep_prob"), 1.0f,
                                               tensorflow::PartialTensorShape({}));
  Output x = net->input;
  if (opts.standardize_input) {
    x = ops::Multiply(root.WithOpName("input_scale"), x, ops::Const(root, 1.0f / opts.input_stddev));
  }
  LayerBuilder builder(root, opts, make_parameter, net);
  int layer_index = 0;
  for (const LayerShape& shape : shapes) {
    x = builder.Layer(shape, x, ++layer_index, with_dropout);
    net->stages.emplace_back(shape.spec.name, x);
  }
  net->logits = x;
  net->probabilities = ops::Softmax(root.WithOpName("probabilities"), x);
  return FromTf(root.status());
}

}  // namespace alexnet::model
