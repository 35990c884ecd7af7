#include "model/graph.h"

#include <tensorflow/cc/ops/standard_ops.h>

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
  int layer_index = 0;
  bool flat = false;  // true once the feature maps are vectors (after the first FC layer)
  for (const LayerShape& shape : shapes) {
    const LayerSpec& spec = *shape.spec;
    const Scope s = root.NewSubScope(spec.name);
    ++layer_index;
    auto param = [&](const char* what, tensorflow::TensorShape tshape, bool weight, int64_t fan_in) {
      Parameter p{std::string(spec.name) + "/" + what, tshape, weight,
                  spec.bias_one ? 1.0f : 0.0f, fan_in, Output()};
      p.value = make_parameter(root, p);
      net->parameters.push_back(p);
      return p.value;
    };
    switch (spec.kind) {
      case LayerKind::kConv: {
        const int64_t fan_in = int64_t(spec.kernel) * spec.kernel * shape.in_c;
        Output w = param("weights", {spec.kernel, spec.kernel, shape.in_c, shape.out_c}, true, fan_in);
        Output b = param("biases", {shape.out_c}, false, fan_in);
        std::string padding;
        x = PadFor(s, x, spec, &padding);
        x = ops::Conv2D(s.WithOpName("Conv2D"), x, w, {1, spec.stride, spec.stride, 1}, padding);
        x = ops::BiasAdd(s.WithOpName("BiasAdd"), x, b);
        break;
      }
      case LayerKind::kLrn:
        x = ops::LRN(root.WithOpName(spec.name), x,
                     ops::LRN::DepthRadius(opts.lrn_params.depth_radius)
                         .Bias(opts.lrn_params.bias)
                         .Alpha(opts.lrn_params.alpha)
                         .Beta(opts.lrn_params.beta));
        break;
      case LayerKind::kMaxPool:
        x = ops::MaxPool(root.WithOpName(spec.name), x, {1, spec.kernel, spec.kernel, 1},
                         {1, spec.stride, spec.stride, 1}, "VALID");
        break;
      case LayerKind::kFullyConnected: {
        const int64_t in = int64_t(shape.in_h) * shape.in_w * shape.in_c;
        if (!flat) {
          // Flatten NHWC feature maps (pool5: 6 x 6 x 256 = 9216) into a vector per image.
          x = ops::Reshape(s.WithOpName("flatten"), x, ops::Const(s, {-1, static_cast<int>(in)}));
        }
        Output w = param("weights", {in, shape.out_c}, true, in);
        Output b = param("biases", {shape.out_c}, false, in);
        x = ops::MatMul(s.WithOpName("MatMul"), x, w);
        x = ops::BiasAdd(s.WithOpName(spec.relu ? "BiasAdd" : "logits"), x, b);
        flat = true;
        break;
      }
    }
    if (spec.relu) x = ops::Relu(s.WithOpName("Relu"), x);
    if (spec.dropout && with_dropout && opts.dropout_rate > 0.0f) {
      // Inverted dropout: keep each unit with probability keep_prob and scale by 1/keep_prob, so
      // inference (keep_prob = 1: floor(1 + u) = 1 for u in [0, 1)) is the identity.
      const Scope d = s.NewSubScope("dropout");
      Output u = ops::RandomUniform(d, ops::Shape(d, x), tensorflow::DT_FLOAT,
                                    ops::RandomUniform::Seed(opts.seed).Seed2(layer_index));
      Output mask = ops::Floor(d, ops::Add(d, u, net->keep_prob));
      x = ops::Mul(d.WithOpName("output"), ops::Div(d, x, net->keep_prob), mask);
    }
    net->stages.emplace_back(spec.name, x);
  }
  net->logits = x;
  net->probabilities = ops::Softmax(root.WithOpName("probabilities"), x);
  return FromTf(root.status());
}

}  // namespace alexnet::model
