// The network as data: the seed's table (docs/network.md) written once.
// The TensorFlow graph (graph.cpp), `alexnet summary` (summary.cpp) and the docs are derived
// from AlexNetLayers(opts): the seed's table with the model's variants (activation, pooling
// window, LRN) applied to its rows; no shape is typed anywhere else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/enum_names.h"
#include "util/status.h"

namespace alexnet::model {

enum class LayerKind { kConv, kLrn, kMaxPool, kFullyConnected };

// The nonlinearity after a layer. The paper's is the ReLU (section 3.1); tanh is the saturating
// one it was compared with (`alexnet experiment relu`).
enum class Activation { kNone, kRelu, kTanh };
// The activations a flag or config.json can name (kNone is a row without one).
inline constexpr EnumNames<Activation, 2> kActivationNames = {{{Activation::kRelu, "relu"}, {Activation::kTanh, "tanh"}}};

struct LayerSpec {
  const char* name;   // the paper's name: conv1, lrn1, pool1, ..., fc8
  LayerKind kind;
  int kernel;         // conv / pool window (square)
  int stride;
  int pad;            // symmetric zero padding, conv only
  int out_channels;   // conv filters or FC units; 0 = the number of classes
  Activation activation;  // after the layer: ReLU in the seed's table, ModelOptions::activation
  bool dropout;       // inverted dropout after the ReLU (training only)
  bool bias_one;      // paper init: bias 1 (conv2, conv4, conv5, fc6, fc7), else 0
};

// AlexNet as the seed's table has it (the paper's choices): single tower, NHWC, ReLU after
// every conv and fc layer but fc8, LRN after the ReLU of conv1/conv2 before pooling, overlapping
// 3 x 3 / 2 max pooling.
inline const std::vector<LayerSpec>& AlexNetLayers() {
  using K = LayerKind;
  constexpr Activation R = Activation::kRelu, N = Activation::kNone;
  static const std::vector<LayerSpec> kLayers = {
      // name    kind                 k   s  pad  out   act  drop   bias1
      {"conv1", K::kConv,           11, 4, 0,   96,   R,   false, false},
      {"lrn1",  K::kLrn,             0, 0, 0,    0,   N,   false, false},
      {"pool1", K::kMaxPool,         3, 2, 0,    0,   N,   false, false},
      {"conv2", K::kConv,            5, 1, 2,  256,   R,   false, true},
      {"lrn2",  K::kLrn,             0, 0, 0,    0,   N,   false, false},
      {"pool2", K::kMaxPool,         3, 2, 0,    0,   N,   false, false},
      {"conv3", K::kConv,            3, 1, 1,  384,   R,   false, false},
      {"conv4", K::kConv,            3, 1, 1,  384,   R,   false, true},
      {"conv5", K::kConv,            3, 1, 1,  256,   R,   false, true},
      {"pool5", K::kMaxPool,         3, 2, 0,    0,   N,   false, false},
      {"fc6",   K::kFullyConnected,  0, 0, 0, 4096,   R,   true,  true},
      {"fc7",   K::kFullyConnected,  0, 0, 0, 4096,   R,   true,  true},
      {"fc8",   K::kFullyConnected,  0, 0, 0,    0,   N,   false, false},
  };
  return kLayers;
}

// torchvision's AlexNet (torchvision.models.alexnet), the one-GPU variant of Krizhevsky's "One
// weird trick for parallelizing convolutional neural networks" (2014) that most "pretrained
// AlexNet" means today: 64-192-384-256-256 filters, conv1 padded by 2, no LRN, dropout before fc6
// and fc7 (here: after pool5 and after fc6's ReLU, the same places), input 224 x 224. Its
// adaptive 6 x 6 average pooling before fc6 is the identity when pool5 is 6 x 6 (inputs 223 to
// 254); ComputeLayerShapes refuses other sizes. 61,100,840 parameters for 1,000 classes.
inline const std::vector<LayerSpec>& TorchvisionLayers() {
  using K = LayerKind;
  constexpr Activation R = Activation::kRelu, N = Activation::kNone;
  static const std::vector<LayerSpec> kLayers = {
      // name    kind                 k   s  pad  out   act  drop   bias1
      {"conv1", K::kConv,           11, 4, 2,   64,   R,   false, false},
      {"pool1", K::kMaxPool,         3, 2, 0,    0,   N,   false, false},
      {"conv2", K::kConv,            5, 1, 2,  192,   R,   false, false},
      {"pool2", K::kMaxPool,         3, 2, 0,    0,   N,   false, false},
      {"conv3", K::kConv,            3, 1, 1,  384,   R,   false, false},
      {"conv4", K::kConv,            3, 1, 1,  256,   R,   false, false},
      {"conv5", K::kConv,            3, 1, 1,  256,   R,   false, false},
      {"pool5", K::kMaxPool,         3, 2, 0,    0,   N,   true,  false},
      {"fc6",   K::kFullyConnected,  0, 0, 0, 4096,   R,   true,  false},
      {"fc7",   K::kFullyConnected,  0, 0, 0, 4096,   R,   false, false},
      {"fc8",   K::kFullyConnected,  0, 0, 0,    0,   N,   false, false},
  };
  return kLayers;
}

// Which table a model is built from: the seed's (the paper's network) or torchvision's.
enum class Architecture { kAlexNet, kTorchvision };
inline constexpr EnumNames<Architecture, 2> kArchitectureNames = {
    {{Architecture::kAlexNet, "alexnet"}, {Architecture::kTorchvision, "torchvision"}}};
const char* ArchitectureName(Architecture a);  // "alexnet", "torchvision"
const std::vector<LayerSpec>& TableOf(Architecture a);
int DefaultInputSize(Architecture a);  // 227, 224

// LRN constants of the paper in TensorFlow's parametrisation: b = a / (k + alpha*sum a^2)^beta
// over 2*depth_radius+1 = 5 channels. TF does not divide alpha by n (Caffe and PyTorch do).
struct LrnParams {
  int depth_radius = 2;
  float bias = 2.0f;
  float alpha = 1e-4f;
  float beta = 0.75f;
};

enum class Init { kPaper, kHe };
inline constexpr EnumNames<Init, 2> kInitNames = {{{Init::kPaper, "paper"}, {Init::kHe, "he"}}};
const char* InitName(Init init);  // "paper", "he"

// fp32: every op in float32. bf16: TensorFlow's grappler pass auto_mixed_precision_onednn_bfloat16
// runs convolutions and matrix products (and their gradients) in bfloat16 where the CPU has
// bf16 instructions; variables, checkpoints, LRN, softmax and the loss stay float32.
enum class Precision { kFp32, kBf16 };
inline constexpr EnumNames<Precision, 2> kPrecisionNames = {{{Precision::kFp32, "fp32"}, {Precision::kBf16, "bf16"}}};
const char* PrecisionName(Precision precision);  // "fp32", "bf16"

// The CPU kernel behind the graph's LRN and LRNGrad ops (model/lrn_kernel.h): ours, or
// TensorFlow's own (for comparison, and in the frozen graph other programs load). Not a property
// of the model: both compute the same function, to float rounding.
enum class LrnKernel { kOwn, kTensorFlow };
inline constexpr EnumNames<LrnKernel, 2> kLrnKernelNames = {
    {{LrnKernel::kOwn, "alexnet"}, {LrnKernel::kTensorFlow, "tensorflow"}}};
const char* LrnKernelName(LrnKernel kernel);  // "alexnet", "tensorflow"

struct ModelOptions {
  Architecture architecture = Architecture::kAlexNet;  // the table: the seed's or torchvision's
  int num_classes = 1000;
  int input_size = 227;       // square input, H = W
  bool lrn = true;            // LRN after conv1/conv2
  // The variants of the paper's design claims (section 3), applied to the table's rows by
  // AlexNetLayers(opts): the nonlinearity of every row that has one (conv1-conv5, fc6, fc7),
  // and the window and stride of every max-pooling row (3/2 overlapping, or e.g. 2/2).
  Activation activation = Activation::kRelu;
  int pool_kernel = 3;
  int pool_stride = 2;
  float dropout_rate = 0.5f;  // on fc6/fc7; 0 disables
  LrnParams lrn_params;
  Init init = Init::kPaper;
  float init_stddev = 0.01f;  // paper: N(0, 0.01)
  // Standard deviation of the input pixels (0..255 minus the mean: about 50-90); the trainer
  // sets it from the training set's colour statistics. He's rule assumes unit-variance inputs.
  // With standardize_input the graph's first op divides the input by it ("input_scale") and
  // conv1 gets plain He weights: every layer then learns at the same rate. Without it (the
  // paper's 0..255 inputs) --init he divides conv1's initial weights by it instead, which keeps
  // the forward pass in scale but makes conv1's steps about input_stddev^2 too large relative to
  // its weights: learning rates above about 3e-4 diverge.
  float input_stddev = 1.0f;
  bool standardize_input = false;
  int64_t seed = 1;
  Precision precision = Precision::kFp32;
  LrnKernel lrn_kernel = LrnKernel::kOwn;
};

// The table this model uses (opts.architecture's): its rows with opts' variants applied (activation, pooling
// window and stride) and the LRN rows left out when opts.lrn is off.
std::vector<LayerSpec> AlexNetLayers(const ModelOptions& opts);

// What one output unit of a layer sees of the input image, by the standard recurrence from the
// input (size 1, jump 1): size_out = size_in + (kernel - 1) * jump_in, jump_out = jump_in * stride.
// LRN mixes channels at one pixel, so it keeps both. A fully connected unit depends on every
// input pixel: whole_input, with size = the input size and jump 0 (there is one position).
struct ReceptiveField {
  int size = 1;              // side of the square of input pixels, padding included (it can exceed the input)
  int jump = 1;              // input pixels between neighbouring units: the product of the strides so far
  bool whole_input = false;  // fully connected
};

// One row of the derived table: what a layer produces, computed from the spec by formula.
struct LayerShape {
  LayerSpec spec;  // the row as AlexNetLayers(opts) has it
  int in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int64_t params;  // weights + biases
  int64_t macs;    // multiply-accumulates of the forward pass, per image
  ReceptiveField field;      // of one output unit
  int64_t activation_bytes;  // the output of one image in fp32: out_h * out_w * out_c * 4
};

// Shapes, parameters and MACs by formula (TensorFlow's shape inference cross-checks them).
// Returns an error message (empty on success) when the input is too small for the network.
Result<std::vector<LayerShape>> ComputeLayerShapes(const ModelOptions& opts);

// The smallest input size the network accepts (pool5 at least 1 x 1).
int MinimumInputSize(const ModelOptions& opts);

// The next layer's receptive field from the previous one (the input's is ReceptiveField{}).
ReceptiveField NextReceptiveField(const ReceptiveField& in, const LayerSpec& spec, int input_size);
// "11", or "all" for a unit that sees the whole input (fully connected).
std::string ReceptiveFieldText(const ReceptiveField& field);
// "4"; "" for a fully connected unit (one position, no neighbours).
std::string JumpText(const ReceptiveField& field);
// fp32 bytes of values H x W x C (or units) of one image.
int64_t ActivationBytes(int64_t values);

int OutChannels(const LayerSpec& spec, const ModelOptions& opts);
const char* KindName(LayerKind kind);
const char* ActivationName(Activation a);   // "none", "relu", "tanh" (flags, config.json)
const char* ActivationLabel(Activation a);  // "", "ReLU", "tanh" (tables, captions)
// "3/2": the pooling window and stride of opts, as `--pool` takes it.
std::string PoolText(const ModelOptions& opts);
// Refuses a pooling stride or window below 1 (the table's variants are otherwise free).
Status CheckVariants(const ModelOptions& opts);

// The layers that have parameters (conv1-conv5, fc6, fc7, fc8), in the table's order: what
// `--train-layers` names (fine-tuning: the others are frozen).
std::vector<std::string> ParameterLayers();
// "fc6,fc7,fc8" as layer names in the table's order (duplicates dropped), or an error naming the
// first name that is not a layer with parameters and listing those that are.
Result<std::vector<std::string>> ParseTrainLayers(const std::string& text);
// The layer a parameter belongs to: "fc8" for "fc8/weights".
std::string ParameterLayer(const std::string& parameter);
// Whether `parameter` is updated when training `train_layers` (empty: every layer is trained).
bool IsTrained(const std::string& parameter, const std::vector<std::string>& train_layers);

}  // namespace alexnet::model
