// The hand-written backward passes (src/reference/layers.h, network.h) against central finite
// differences of their own forward passes, in double, without TensorFlow: every layer kind
// (convolution with stride and padding, ReLU, tanh, LRN, max pooling with overlapping windows,
// fully connected, dropout with a mask, softmax + cross-entropy), then the whole network chained
// from a layer table. As Caffe's GradientChecker does per layer: the loss is a fixed random
// weighting of the layer's outputs, L = sum_i coeff_i y_i, so dL/dy = coeff, and every input and
// parameter value is perturbed in turn.
//
// Each line printed says the tensor, the largest |finite difference|, the largest absolute
// difference from the hand gradient and that divided by the former (the normalised error), and the
// threshold. In double the two agree to 1e-7 or better here; a backward off by a factor, a missing term
// (LRN's cross-channel term, a second pooling window's share), or a transposed index is off by
// 1e-2 or far more (WrongBackwardIsCaught shows the check failing).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "reference/finite_differences.h"
#include "reference/layers.h"
#include "reference/network.h"

namespace alexnet::reference {
namespace {

// Normalised error allowed between a hand gradient and central differences. Double-precision
// differences with steps of 1e-5 of the values' scale agree with a right gradient to about 1e-9 in
// a layer, 1e-7 through the whole network (whose loss, about 100 at AlexNet's scale, rounds more).
constexpr double kThreshold = 1e-5;

Tensor Random(std::vector<int> shape, double stddev, std::mt19937_64& rng) {
  Tensor t(std::move(shape));
  std::normal_distribution<double> normal(0.0, stddev);
  for (double& v : t.data) v = normal(rng);
  return t;
}

// sum_i coeff_i y_i: a loss whose gradient with respect to y is coeff.
double Weighted(const Tensor& y, const Tensor& coeff) {
  EXPECT_TRUE(SameShape(y, coeff)) << ShapeString(y) << " vs " << ShapeString(coeff);
  double sum = 0;
  for (size_t i = 0; i < y.size(); ++i) sum += y.data[i] * coeff.data[i];
  return sum;
}

void PrintHeader() {
  std::printf("%-28s %-12s %13s %12s %12s %12s %8s\n", "gradient", "shape", "", "max|grad|", "max abs diff",
              "normalised", "thresh");
}

// Which values of `x` to perturb: all of them (max_values 0), or the one with the largest hand
// gradient and others spread evenly over those whose hand gradient is not 0 (a ReLU that never
// fired leaves whole rows of zeros, which prove nothing).
std::vector<size_t> Pick(const Tensor& x, const Tensor& analytic, size_t max_values) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < x.size(); ++i)
    if (max_values == 0 || analytic.data[i] != 0) candidates.push_back(i);
  if (max_values == 0 || candidates.size() <= max_values) return candidates;
  std::vector<size_t> picked;
  size_t largest = candidates[0];
  for (size_t i : candidates)
    if (std::abs(analytic.data[i]) > std::abs(analytic.data[largest])) largest = i;
  picked.push_back(largest);
  for (size_t k = 0; k + 1 < max_values; ++k) {
    picked.push_back(candidates[(2 * k + 1) * candidates.size() / (2 * max_values)]);
  }
  return picked;
}

// Central differences of `loss` at the `picked` values of *x against `analytic`. The normalised
// error divides by the largest |gradient| of the tensor (hand or finite difference), as Compare
// does: prints a line and returns it.
double CheckValues(const std::string& name, Tensor* x, const Tensor& analytic, const std::function<double()>& loss,
                   const std::vector<size_t>& picked) {
  EXPECT_TRUE(SameShape(*x, analytic)) << name << ": " << ShapeString(*x) << " vs " << ShapeString(analytic);
  const double h = FiniteDifferenceStep(*x);
  double max_abs = 0, scale = 0;
  for (double v : analytic.data) scale = std::max(scale, std::abs(v));
  for (size_t i : picked) {
    const double numeric = CentralDifference(x->data[i], h, loss);
    max_abs = std::max(max_abs, std::abs(numeric - analytic.data[i]));
    scale = std::max(scale, std::abs(numeric));
  }
  const double error = max_abs / std::max(scale, 1e-30);
  std::printf("%-28s %-12s %6zu values %12.4e %12.4e %12.4e %8.0e%s\n", name.c_str(), ShapeString(*x).c_str(),
              picked.size(), scale, max_abs, error, kThreshold, error <= kThreshold ? "" : "  FAIL");
  EXPECT_FALSE(picked.empty()) << name << ": nothing to check";
  EXPECT_GT(scale, 0) << name << ": every gradient is 0, the check proves nothing";
  return error;
}

// Central differences of `loss` for every value of *x, against `analytic`.
double CheckAgainstFiniteDifferences(const std::string& name, Tensor* x, const Tensor& analytic,
                                     const std::function<double()>& loss) {
  return CheckValues(name, x, analytic, loss, Pick(*x, analytic, 0));
}

TEST(HandBackward, ConvolutionWithStrideAndPadding) {
  PrintHeader();
  std::mt19937_64 rng(1);
  struct Case { int k, stride, pad; };
  for (const Case cs : {Case{3, 2, 1}, Case{4, 3, 2}, Case{3, 1, 0}}) {
    Tensor in = Random({2, 7, 8, 3}, 1.0, rng), w = Random({cs.k, cs.k, 3, 4}, 0.3, rng), b = Random({4}, 0.1, rng);
    const Tensor out = ConvForward(in, w, b, cs.stride, cs.pad);
    ASSERT_EQ(out.dim(1), (7 + 2 * cs.pad - cs.k) / cs.stride + 1);
    ASSERT_EQ(out.dim(2), (8 + 2 * cs.pad - cs.k) / cs.stride + 1);
    const Tensor coeff = Random(out.shape, 1.0, rng);
    const ConvGradients g = ConvBackward(coeff, in, w, cs.stride, cs.pad);
    auto loss = [&] { return Weighted(ConvForward(in, w, b, cs.stride, cs.pad), coeff); };
    const std::string tag = "conv k" + std::to_string(cs.k) + " s" + std::to_string(cs.stride) + " p" +
                            std::to_string(cs.pad);
    EXPECT_LE(CheckAgainstFiniteDifferences(tag + " d_in", &in, g.d_in, loss), kThreshold);
    EXPECT_LE(CheckAgainstFiniteDifferences(tag + " d_weights", &w, g.d_weights, loss), kThreshold);
    EXPECT_LE(CheckAgainstFiniteDifferences(tag + " d_biases", &b, g.d_biases, loss), kThreshold);
  }
}

// Values of |x| at least `margin`: a central difference straddling a ReLU's kink at 0 measures
// neither slope.
Tensor AwayFromZero(Tensor t, double margin) {
  for (double& v : t.data)
    if (std::abs(v) < margin) v = v < 0 ? -margin : margin;
  return t;
}

TEST(HandBackward, ReluAndTanh) {
  PrintHeader();
  std::mt19937_64 rng(2);
  Tensor x = AwayFromZero(Random({2, 3, 3, 5}, 1.0, rng), 1e-3);
  const Tensor coeff = Random(x.shape, 1.0, rng);
  const Tensor relu_grad = ReluBackward(coeff, ReluForward(x));
  EXPECT_LE(CheckAgainstFiniteDifferences("relu d_x", &x, relu_grad, [&] { return Weighted(ReluForward(x), coeff); }),
            kThreshold);
  const Tensor tanh_grad = TanhBackward(coeff, TanhForward(x));
  EXPECT_LE(CheckAgainstFiniteDifferences("tanh d_x", &x, tanh_grad, [&] { return Weighted(TanhForward(x), coeff); }),
            kThreshold);
}

TEST(HandBackward, LocalResponseNormalisation) {
  PrintHeader();
  std::mt19937_64 rng(3);
  // AlexNet's constants (k = 2, alpha = 1e-4, beta = 0.75, 5 channels) on activations of the size
  // conv1 gives them (tens): alpha * sum a^2 is then comparable to k, so the cross-channel term of
  // the gradient matters. And a made-up set where it dominates. 7 channels: windows clipped at
  // both ends.
  model::LrnParams other;
  other.depth_radius = 1;
  other.bias = 1.0f;
  other.alpha = 0.5f;
  other.beta = 0.6f;
  struct Case { const char* name; model::LrnParams p; double scale; };
  for (const Case& cs : {Case{"lrn alexnet d_a", model::LrnParams{}, 40.0}, Case{"lrn r1 a0.5 d_a", other, 1.0}}) {
    Tensor a = Random({2, 2, 3, 7}, cs.scale, rng);
    const Tensor coeff = Random(a.shape, 1.0, rng);
    const Tensor g = LrnBackward(coeff, a, cs.p);
    EXPECT_LE(CheckAgainstFiniteDifferences(cs.name, &a, g, [&] { return Weighted(LrnForward(a, cs.p), coeff); }),
              kThreshold);
  }
}

TEST(HandBackward, MaxPoolingOverlappingAndNot) {
  PrintHeader();
  std::mt19937_64 rng(4);
  struct Case { int k, s; };
  for (const Case cs : {Case{3, 2}, Case{2, 2}, Case{3, 1}}) {
    Tensor in = Random({2, 7, 7, 3}, 1.0, rng);  // continuous values: no ties, no kinks within a step
    const Tensor out = MaxPoolForward(in, cs.k, cs.s);
    const Tensor coeff = Random(out.shape, 1.0, rng);
    const Tensor g = MaxPoolBackward(coeff, in, cs.k, cs.s);
    const std::string tag = "maxpool " + std::to_string(cs.k) + "/" + std::to_string(cs.s) + " d_in";
    auto loss = [&] { return Weighted(MaxPoolForward(in, cs.k, cs.s), coeff); };
    EXPECT_LE(CheckAgainstFiniteDifferences(tag, &in, g, loss), kThreshold);
  }
}

// Overlapping windows (3/2) share their border rows and columns: an input that is the maximum of
// four windows receives the sum of their four gradients.
TEST(HandBackward, MaxPoolingAddsTheGradientsOfOverlappingWindows) {
  Tensor in({1, 5, 5, 1});
  for (size_t i = 0; i < in.size(); ++i) in.data[i] = 0.01 * double(i);
  in(0, 2, 2, 0) = 10;  // in all four 3 x 3 windows at stride 2
  Tensor d_out({1, 2, 2, 1});
  d_out.data = {1, 2, 3, 4};
  const Tensor d_in = MaxPoolBackward(d_out, in, 3, 2);
  EXPECT_EQ(d_in(0, 2, 2, 0), 10.0);
  double elsewhere = 0;
  for (double v : d_in.data) elsewhere += std::abs(v);
  EXPECT_EQ(elsewhere, 10.0) << "only the shared maximum gets a gradient";
}

// A window whose maximum is shared (after a ReLU: a window of zeros) sends its gradient to the
// first of them in row-major order, once, as TensorFlow does.
TEST(HandBackward, MaxPoolingTieGoesToTheFirstMaximum) {
  Tensor in({1, 3, 3, 1});  // all zero
  Tensor d_out({1, 1, 1, 1});
  d_out.data = {5};
  const Tensor d_in = MaxPoolBackward(d_out, in, 3, 2);
  EXPECT_EQ(d_in(0, 0, 0, 0), 5.0);
  double total = 0;
  for (double v : d_in.data) total += v;
  EXPECT_EQ(total, 5.0);
}

TEST(HandBackward, FullyConnectedFromFeatureMaps) {
  PrintHeader();
  std::mt19937_64 rng(5);
  Tensor in = Random({2, 2, 2, 3}, 1.0, rng);  // flattened to 12 values per image, NHWC order
  Tensor w = Random({12, 5}, 0.3, rng), b = Random({5}, 0.1, rng);
  const Tensor coeff = Random({2, 5}, 1.0, rng);
  const FcGradients g = FcBackward(coeff, in, w);
  auto loss = [&] { return Weighted(FcForward(in, w, b), coeff); };
  EXPECT_LE(CheckAgainstFiniteDifferences("fc d_in", &in, g.d_in, loss), kThreshold);
  EXPECT_LE(CheckAgainstFiniteDifferences("fc d_weights", &w, g.d_weights, loss), kThreshold);
  EXPECT_LE(CheckAgainstFiniteDifferences("fc d_biases", &b, g.d_biases, loss), kThreshold);
  // The flattening order: input (b, y, x, c) is row (y * W + x) * C + c of the weights.
  Tensor one({1, 2, 2, 3});
  one(0, 1, 0, 2) = 1;  // y = 1, x = 0, c = 2: row (1 * 2 + 0) * 3 + 2 = 8
  const Tensor picked = FcForward(one, w, Tensor({5}));
  for (int o = 0; o < 5; ++o) EXPECT_EQ(picked(0, o), w(8, o));
}

TEST(HandBackward, DropoutWithAFixedMask) {
  PrintHeader();
  std::mt19937_64 rng(6);
  Tensor x = Random({2, 10}, 1.0, rng);
  Tensor mask({2, 10});
  std::bernoulli_distribution keep(0.6);
  for (double& v : mask.data) v = keep(rng) ? 1.0 : 0.0;
  const double keep_prob = 0.6;
  const Tensor coeff = Random(x.shape, 1.0, rng);
  const Tensor g = DropoutBackward(coeff, mask, keep_prob);
  EXPECT_LE(CheckAgainstFiniteDifferences("dropout d_x", &x, g,
                                          [&] { return Weighted(DropoutForward(x, mask, keep_prob), coeff); }),
            kThreshold);
  const Tensor y = DropoutForward(x, mask, keep_prob);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(y.data[i], mask.data[i] ? x.data[i] / keep_prob : 0.0) << "kept values are x / keep_prob, dropped 0";
  }
}

TEST(HandBackward, SoftmaxCrossEntropy) {
  PrintHeader();
  std::mt19937_64 rng(7);
  Tensor logits = Random({3, 5}, 2.0, rng);
  const std::vector<int> labels = {4, 0, 2};
  const Tensor g = SoftmaxCrossEntropyBackward(SoftmaxForward(logits), labels);
  EXPECT_LE(CheckAgainstFiniteDifferences("softmax+CE d_logits", &logits, g,
                                          [&] { return CrossEntropyForward(logits, labels); }),
            kThreshold);
  // Logits hundreds apart, as an untrained network's can be: p of the label (e^-800) underflows to
  // 0, the loss does not: 800 + log(1 + e^-1).
  Tensor far({1, 3});
  far.data = {0, 800, 799};
  EXPECT_NEAR(CrossEntropyForward(far, {0}), 800 + std::log(1 + std::exp(-1.0)), 1e-12);
  EXPECT_LE(CheckAgainstFiniteDifferences("softmax+CE far apart", &far,
                                          SoftmaxCrossEntropyBackward(SoftmaxForward(far), {0}),
                                          [&] { return CrossEntropyForward(far, {0}); }),
            kThreshold);
  // Each row of (p - y) / N sums to 0: the probabilities and the one-hot target both sum to 1.
  for (int b = 0; b < 3; ++b) {
    double row = 0;
    for (int k = 0; k < 5; ++k) row += g(b, k);
    EXPECT_NEAR(row, 0.0, 1e-15);
  }
}

// The check can fail: a backward pass with a classic mistake is refused. (Were the comparison
// vacuous, e.g. both sides computed by the same code, these would pass.)
TEST(HandBackward, WrongBackwardIsCaught) {
  PrintHeader();
  std::mt19937_64 rng(8);
  Tensor a = Random({1, 2, 2, 7}, 40.0, rng);
  const model::LrnParams p;
  const Tensor coeff = Random(a.shape, 1.0, rng);
  // LRN's gradient without its cross-channel term: d_a = d_b * D^-beta alone.
  Tensor direct_only(a.shape);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 7; ++c) {
        double sum = 0;
        for (int j = std::max(0, c - 2); j <= std::min(6, c + 2); ++j) sum += a(0, y, x, j) * a(0, y, x, j);
        direct_only(0, y, x, c) = coeff(0, y, x, c) * std::pow(p.bias + p.alpha * sum, -double(p.beta));
      }
  auto lrn_loss = [&] { return Weighted(LrnForward(a, p), coeff); };
  EXPECT_GT(CheckAgainstFiniteDifferences("lrn without cross term", &a, direct_only, lrn_loss), 1e-2);
  // A convolution's input gradient off by a factor of 2.
  Tensor in = Random({1, 5, 5, 2}, 1.0, rng), w = Random({3, 3, 2, 3}, 0.3, rng), b({3});
  const Tensor conv_coeff = Random(ConvForward(in, w, b, 2, 1).shape, 1.0, rng);
  ConvGradients g = ConvBackward(conv_coeff, in, w, 2, 1);
  for (double& v : g.d_in.data) v *= 2;
  EXPECT_GT(CheckAgainstFiniteDifferences("conv d_in times 2", &in, g.d_in,
                                          [&] { return Weighted(ConvForward(in, w, b, 2, 1), conv_coeff); }),
            0.5);
}

// ---- the whole network ----

// Backward(Forward(...)) against central differences of the loss through the whole network (the
// forward pass entered where the perturbed tensor is read: LossFrom), for every parameter tensor,
// every layer's input and every activation's input; `max_values` per tensor, spread evenly.
// The differences hold the forward pass's switches (network.h): a ReLU's zeros fill whole pooling
// windows, whose maximum is a tie (a kink of the loss, where a central difference would average
// two one-sided slopes); held, the tie stays broken as the backward pass broke it.
void CheckWholeNetwork(Network& net, const Tensor& images, const std::vector<int>& labels,
                       const DropoutMasks& dropout, size_t max_values) {
  PrintHeader();
  const Activations acts = Forward(net, images, labels, dropout);
  const Gradients g = Backward(net, acts, labels, dropout);
  const Switches held = SwitchesOf(net, acts);
  std::printf("loss %.6f\n", acts.loss);
  // Held where they are, the switches change nothing at the point itself.
  EXPECT_DOUBLE_EQ(LossFrom(net, 0, Entry::kInput, images, labels, dropout, &held), acts.loss);
  auto input_of = [&](size_t i) { return i == 0 ? acts.images : acts.output[i - 1]; };
  for (size_t i = 0; i <= net.layers.size(); ++i) {
    if (i == net.layers.size()) {  // the loss's input: the logits
      Tensor logits = acts.output.back();
      auto loss = [&] { return LossFrom(net, i, Entry::kInput, logits, labels, dropout, &held); };
      EXPECT_LE(CheckValues("softmax+CE input", &logits, g.logits, loss, Pick(logits, g.logits, max_values)),
                kThreshold);
      break;
    }
    const model::LayerSpec& spec = net.layers[i].spec;
    Tensor input = input_of(i);
    const int w = net.weights_index[i];
    auto from_input = [&] { return LossFrom(net, i, Entry::kInput, input, labels, dropout, &held); };
    if (w >= 0) {
      for (int k : {w, w + 1}) {
        Tensor& param = net.params[k].value;
        EXPECT_LE(
            CheckValues(net.params[k].name, &param, g.params[k], from_input, Pick(param, g.params[k], max_values)),
            kThreshold);
      }
    }
    EXPECT_LE(CheckValues(std::string(spec.name) + " input", &input, g.input[i], from_input,
                          Pick(input, g.input[i], max_values)),
              kThreshold);
    if (spec.activation != model::Activation::kNone) {
      Tensor pre = LayerForward(net, i, input_of(i));
      auto from_pre = [&] { return LossFrom(net, i, Entry::kPreActivation, pre, labels, dropout, &held); };
      EXPECT_LE(CheckValues(std::string(spec.name) + " " + model::ActivationName(spec.activation) + " input", &pre,
                            g.pre_activation[i], from_pre, Pick(pre, g.pre_activation[i], max_values)),
                kThreshold);
    }
  }
}

// A miniature of the table (9 x 9 input, few channels, every layer kind in AlexNet's order) with
// its shapes, so that every value of every tensor can be perturbed.
std::vector<model::LayerShape> MiniatureTable(model::Activation activation, int pool_kernel, int pool_stride) {
  using K = model::LayerKind;
  const model::Activation N = model::Activation::kNone;
  const std::vector<model::LayerSpec> specs = {
      {"conv1", K::kConv, 3, 2, 1, 4, activation, false, false},
      {"lrn1", K::kLrn, 0, 0, 0, 0, N, false, false},
      {"pool1", K::kMaxPool, pool_kernel, pool_stride, 0, 0, N, false, false},
      {"conv2", K::kConv, 3, 1, 1, 6, activation, false, false},
      {"fc6", K::kFullyConnected, 0, 0, 0, 8, activation, true, false},
      {"fc7", K::kFullyConnected, 0, 0, 0, 8, activation, true, false},
      {"fc8", K::kFullyConnected, 0, 0, 0, 3, N, false, false},
  };
  std::vector<model::LayerShape> rows;
  int h = 9, c = 3;
  for (const model::LayerSpec& spec : specs) {
    model::LayerShape s{spec, h, h, c, h, h, c, 0, 0, {}, 0};  // (field and bytes unused here)
    if (spec.kind == K::kConv) s.out_h = s.out_w = (h + 2 * spec.pad - spec.kernel) / spec.stride + 1;
    if (spec.kind == K::kMaxPool) s.out_h = s.out_w = (h - spec.kernel) / spec.stride + 1;
    if (spec.kind == K::kFullyConnected) s.out_h = s.out_w = 1;
    if (spec.kind == K::kConv || spec.kind == K::kFullyConnected) s.out_c = spec.out_channels;
    rows.push_back(s);
    h = s.out_h;
    c = s.out_c;
  }
  return rows;
}

TEST(HandBackward, WholeMiniatureNetworkEveryValue) {
  model::ModelOptions opts;
  opts.init = model::Init::kHe;
  using model::Activation;
  for (const auto& [activation, pool] : {std::pair{Activation::kRelu, 3}, std::pair{Activation::kTanh, 2}}) {
    std::printf("miniature table: %s, pooling %d/2, dropout 0.5 with fixed masks\n",
                model::ActivationName(activation), pool);
    Network net = MakeNetwork(MiniatureTable(activation, pool, 2), opts.lrn_params);
    InitializeParameters(opts, 21, &net);
    std::mt19937_64 rng(22);
    // Pixels of the size of mean-subtracted 0..255 values for the ReLU network: with He's weights
    // conv1's outputs are then in the tens, where LRN's denominator differs from its constant k.
    // Not for tanh, which they would saturate: tanh' = 0 in double, and the check would prove nothing.
    const Tensor images = Random({2, 9, 9, 3}, activation == model::Activation::kRelu ? 30.0 : 0.3, rng);
    const DropoutMasks dropout = DrawDropoutMasks(net, 2, 0.5, 23);
    CheckWholeNetwork(net, images, {2, 0}, dropout, 0);
  }
}

// The real table (AlexNet at its smallest input, 67 x 67, 5 classes, He initialisation, dropout
// masks at keep 0.5): a few values of every tensor.
TEST(HandBackward, WholeAlexNetSampled) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "minutes in an unoptimised sanitizer build; the miniature table runs the same code";
#endif
  model::ModelOptions opts;
  opts.init = model::Init::kHe;
  opts.num_classes = 5;
  opts.input_size = model::MinimumInputSize(opts);
  Result<Network> made = MakeNetwork(opts);
  ASSERT_TRUE(made.ok()) << made.status().message();
  Network net = std::move(made).value();
  InitializeParameters(opts, 31, &net);
  std::mt19937_64 rng(32);
  const Tensor images = Random({2, opts.input_size, opts.input_size, 3}, 60.0, rng);
  const DropoutMasks dropout = DrawDropoutMasks(net, 2, 0.5, 33);
  std::printf("AlexNet at %d x %d, 5 classes, batch 2\n", opts.input_size, opts.input_size);
  CheckWholeNetwork(net, images, {1, 3}, dropout, 3);
}

}  // namespace
}  // namespace alexnet::reference
