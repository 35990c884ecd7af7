// The whole network by hand: the forward pass runs the table's rows in order, the backward pass
// runs them in reverse, each row's backward undoing what its forward did last first (dropout,
// then the activation, then the layer itself).
#include "reference/network.h"

#include <cmath>
#include <cstdlib>
#include <random>

#include "reference/layers.h"

namespace alexnet::reference {

using model::Activation;
using model::LayerKind;
using model::LayerShape;

Network MakeNetwork(const std::vector<LayerShape>& layers, const model::LrnParams& lrn) {
  Network net;
  net.layers = layers;
  net.lrn = lrn;
  for (const LayerShape& s : layers) {
    const std::string name = s.spec.name;
    int weights = -1;
    if (s.spec.kind == LayerKind::kConv) {
      weights = static_cast<int>(net.params.size());
      net.params.push_back({name + "/weights", Tensor({s.spec.kernel, s.spec.kernel, s.in_c, s.out_c})});
      net.params.push_back({name + "/biases", Tensor({s.out_c})});
    } else if (s.spec.kind == LayerKind::kFullyConnected) {
      weights = static_cast<int>(net.params.size());
      net.params.push_back({name + "/weights", Tensor({s.in_h * s.in_w * s.in_c, s.out_c})});
      net.params.push_back({name + "/biases", Tensor({s.out_c})});
    }
    net.weights_index.push_back(weights);
  }
  return net;
}

Result<Network> MakeNetwork(const model::ModelOptions& opts) {
  if (opts.standardize_input) {
    return Status::BadInput("", "the hand-written reference starts at conv1: it has no input scaling (--standardize)");
  }
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<LayerShape> layers, model::ComputeLayerShapes(opts));
  return MakeNetwork(layers, opts.lrn_params);
}

void InitializeParameters(const model::ModelOptions& opts, uint64_t seed, Network* net) {
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < net->layers.size(); ++i) {
    if (net->weights_index[i] < 0) continue;
    const LayerShape& s = net->layers[i];
    Tensor& w = net->params[net->weights_index[i]].value;
    Tensor& b = net->params[net->weights_index[i] + 1].value;
    double stddev = opts.init_stddev;
    if (opts.init == model::Init::kHe) {
      const double fan_in = double(w.size()) / s.out_c;  // K * K * C, or the FC input width
      stddev = std::sqrt(2.0 / fan_in);
      if (i == 0 && !opts.standardize_input) stddev /= opts.input_stddev;  // conv1 sees raw pixels
    }
    std::normal_distribution<double> normal(0.0, stddev);
    for (double& v : w.data) v = normal(rng);
    const double bias = opts.init == model::Init::kPaper && s.spec.bias_one ? 1.0 : 0.0;
    for (double& v : b.data) v = bias;
  }
}

DropoutMasks DrawDropoutMasks(const Network& net, int batch, double keep_prob, uint64_t seed) {
  DropoutMasks d;
  d.keep_prob = keep_prob;
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(keep_prob);
  for (const LayerShape& s : net.layers) {
    if (!s.spec.dropout) {
      d.masks.emplace_back();
      continue;
    }
    Tensor mask({batch, s.out_c});
    for (double& v : mask.data) v = keep(rng) ? 1.0 : 0.0;
    d.masks.push_back(std::move(mask));
  }
  return d;
}

namespace {

const Tensor* MaskOf(const DropoutMasks& dropout, size_t layer) {
  if (layer >= dropout.masks.size() || dropout.masks[layer].size() == 0) return nullptr;
  return &dropout.masks[layer];
}

}  // namespace

Switches SwitchesOf(const Network& net, const Activations& acts) {
  Switches sw;
  sw.relu.resize(net.layers.size());
  sw.pool.resize(net.layers.size());
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const model::LayerSpec& spec = net.layers[i].spec;
    if (spec.activation == Activation::kRelu) {
      sw.relu[i] = Tensor(acts.activated[i].shape);
      for (size_t k = 0; k < sw.relu[i].size(); ++k) sw.relu[i].data[k] = acts.activated[i].data[k] > 0 ? 1.0 : 0.0;
    }
    if (spec.kind == LayerKind::kMaxPool) {
      sw.pool[i] = MaxPoolSwitches(i == 0 ? acts.images : acts.output[i - 1], spec.kernel, spec.stride);
    }
  }
  return sw;
}

Tensor LayerForward(const Network& net, size_t i, const Tensor& in, const Switches* held) {
  const model::LayerSpec& spec = net.layers[i].spec;
  switch (spec.kind) {
    case LayerKind::kConv: {
      const int w = net.weights_index[i];
      return ConvForward(in, net.params[w].value, net.params[w + 1].value, spec.stride, spec.pad);
    }
    case LayerKind::kLrn: return LrnForward(in, net.lrn);
    case LayerKind::kMaxPool: {
      if (!held) return MaxPoolForward(in, spec.kernel, spec.stride);
      Tensor out({in.dim(0), net.layers[i].out_h, net.layers[i].out_w, in.dim(3)});
      for (size_t o = 0; o < out.size(); ++o) out.data[o] = in.data[held->pool[i][o]];
      return out;
    }
    case LayerKind::kFullyConnected: {
      const int w = net.weights_index[i];
      return FcForward(in, net.params[w].value, net.params[w + 1].value);
    }
  }
  std::abort();
}

namespace {

// The activation; a held ReLU passes x where its switch is on.
Tensor Activate(Activation a, const Tensor& x, const Tensor* held_relu) {
  switch (a) {
    case Activation::kRelu: {
      if (!held_relu) return ReluForward(x);
      Tensor y = x;
      for (size_t k = 0; k < y.size(); ++k) y.data[k] *= held_relu->data[k];
      return y;
    }
    case Activation::kTanh: return TanhForward(x);
    case Activation::kNone: break;
  }
  return x;
}

// Layer i from its value before the activation: the activation, then dropout. Stores both when
// `acts` is given.
Tensor FinishLayer(const Network& net, size_t i, const Tensor& pre, const DropoutMasks& dropout, Activations* acts,
                   const Switches* held = nullptr) {
  Tensor activated = Activate(net.layers[i].spec.activation, pre, held ? &held->relu[i] : nullptr);
  const Tensor* mask = MaskOf(dropout, i);
  Tensor out = mask ? DropoutForward(activated, *mask, dropout.keep_prob) : activated;
  if (acts) {
    acts->activated.push_back(std::move(activated));
    acts->output.push_back(out);
  }
  return out;
}

}  // namespace

Activations Forward(const Network& net, const Tensor& images, const std::vector<int>& labels,
                    const DropoutMasks& dropout) {
  Activations acts;
  acts.images = images;
  Tensor x = images;
  for (size_t i = 0; i < net.layers.size(); ++i) x = FinishLayer(net, i, LayerForward(net, i, x), dropout, &acts);
  acts.probabilities = SoftmaxForward(x);  // x: the logits (N, classes)
  acts.loss = CrossEntropyForward(x, labels);
  return acts;
}

double LossFrom(const Network& net, size_t layer, Entry entry, const Tensor& value, const std::vector<int>& labels,
                const DropoutMasks& dropout, const Switches* held) {
  Tensor x;
  size_t next = layer;
  if (entry == Entry::kPreActivation) {
    x = FinishLayer(net, layer, value, dropout, nullptr, held);
    next = layer + 1;
  } else {
    x = value;
  }
  for (size_t i = next; i < net.layers.size(); ++i) {
    x = FinishLayer(net, i, LayerForward(net, i, x, held), dropout, nullptr, held);
  }
  return CrossEntropyForward(x, labels);
}

LayerGradients BackwardLayer(const Network& net, size_t i, const Activations& acts, const Tensor& d_output,
                             const DropoutMasks& dropout) {
  const model::LayerSpec& spec = net.layers[i].spec;
  LayerGradients g;
  Tensor d = d_output;
  if (const Tensor* mask = MaskOf(dropout, i)) d = DropoutBackward(d, *mask, dropout.keep_prob);
  if (spec.activation == Activation::kRelu) d = ReluBackward(d, acts.activated[i]);
  if (spec.activation == Activation::kTanh) d = TanhBackward(d, acts.activated[i]);
  if (spec.activation != Activation::kNone) g.pre_activation = d;
  const Tensor& in = i == 0 ? acts.images : acts.output[i - 1];
  const int w = net.weights_index[i];
  switch (spec.kind) {
    case LayerKind::kConv: {
      ConvGradients cg = ConvBackward(d, in, net.params[w].value, spec.stride, spec.pad);
      g.weights = std::move(cg.d_weights);
      g.biases = std::move(cg.d_biases);
      g.input = std::move(cg.d_in);
      break;
    }
    case LayerKind::kLrn: g.input = LrnBackward(d, in, net.lrn); break;
    case LayerKind::kMaxPool: g.input = MaxPoolBackward(d, in, spec.kernel, spec.stride); break;
    case LayerKind::kFullyConnected: {
      FcGradients fg = FcBackward(d, in, net.params[w].value);
      g.weights = std::move(fg.d_weights);
      g.biases = std::move(fg.d_biases);
      g.input = std::move(fg.d_in);
      break;
    }
  }
  return g;
}

Gradients Backward(const Network& net, const Activations& acts, const std::vector<int>& labels,
                   const DropoutMasks& dropout) {
  const size_t n = net.layers.size();
  Gradients g;
  g.params.resize(net.params.size());
  g.input.resize(n);
  g.pre_activation.resize(n);
  g.logits = SoftmaxCrossEntropyBackward(acts.probabilities, labels);
  const Tensor* d_output = &g.logits;  // dL/d(layer i's output), from the top down
  for (size_t i = n; i-- > 0;) {
    LayerGradients lg = BackwardLayer(net, i, acts, *d_output, dropout);
    if (const int w = net.weights_index[i]; w >= 0) {
      g.params[w] = std::move(lg.weights);
      g.params[w + 1] = std::move(lg.biases);
    }
    g.pre_activation[i] = std::move(lg.pre_activation);
    g.input[i] = std::move(lg.input);
    d_output = &g.input[i];
  }
  return g;
}

}  // namespace alexnet::reference
