// From Caffe's layout to ours: each step of turning bvlc_alexnet's weights into the seed table's
// parameters is one small function here, with no library behind it (tests/caffe/mapping_test.cpp
// checks each on hand-made arrays).
//
//   Caffe (bvlc_alexnet)                          ours (graph.cpp)
//   conv weights [O, I/groups, kH, kW], BGR in    [kH, kW, I, O] (HWIO), RGB in, one tower
//   fc weights   [out, in], fc6's in = C x H x W  [in, out], fc6's in = H x W x C
//   LRN k, alpha / local_size                     LrnParams bias, alpha (TensorFlow's form)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/layers.h"
#include "util/status.h"

namespace alexnet::caffe {

// A dense float array, row-major (the last index varies fastest), and its shape.
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> values;

  int64_t Count() const;  // the product of shape
};

// "96 x 3 x 11 x 11".
std::string ShapeText(const std::vector<int64_t>& shape);

// Caffe's grouped convolution (group = g in conv2, conv4, conv5: the paper's two towers, one per
// GPU) as one convolution over every input channel: weights [O, I/g, kH, kW] become
// [O, I, kH, kW] where output o (in group o / (O/g)) keeps its own group's input channels and has
// zeros for the others' (a block-diagonal matrix over channels). The function is the same:
// each output still sees only its group's inputs.
Array UngroupConvolution(const Array& oihw, int groups);

// [O, I, kH, kW] -> [O, I, kH, kW] with the input channels in reverse order: Caffe's conv1 reads
// BGR (OpenCV's order, as Caffe's image layers load images), ours reads RGB.
Array ReverseInputChannels(const Array& oihw);

// [O, I, kH, kW] (Caffe, PyTorch) -> [kH, kW, I, O] (TensorFlow's Conv2D filter).
Array OihwToHwio(const Array& oihw);

// A fully connected layer's weights [out, in] -> [in, out] (our MatMul: x[N, in] . W[in, out]).
Array TransposeFullyConnected(const Array& out_in);

// The first fully connected layer after the feature maps (fc6): Caffe flattens pool5 channel by
// channel (index c * H * W + y * W + x), we flatten NHWC (index (y * W + x) * C + c). Weights
// [out, C * H * W] become [H * W * C, out], each input row moved to where our flattening puts
// the same unit.
Array FullyConnectedFromChw(const Array& out_in, int channels, int height, int width);

// Caffe's cross-channel LRN, b = a / (k + alpha / n * sum of a^2 over n channels)^beta, in
// TensorFlow's parametrisation (LrnParams: alpha not divided by n, depth_radius = (n - 1) / 2).
// n must be odd (Caffe requires it too). bvlc_alexnet: n 5, alpha 1e-4, beta 0.75, k 1 ->
// depth_radius 2, alpha 2e-5, beta 0.75, bias 1 (the paper's k is 2).
Result<model::LrnParams> LrnFromCaffe(int local_size, float alpha, float beta, float k);

// Class names from a labels file: synset_words.txt ("n01440764 tench, Tinca tinca" gives
// "tench, Tinca tinca": a leading WordNet id, n and 8 digits, is dropped) or one name a line.
// Trailing spaces and carriage returns are dropped; empty lines at the end are ignored; an empty
// line between names, or no name at all, is an error naming `origin` and the line.
Result<std::vector<std::string>> ParseLabels(const std::string& text, const std::string& origin);

// Caffe's mean image, [3, H, W] in BGR (the layout of imagenet_mean.binaryproto), as our mean
// image: H x W x 3, RGB (ColorStats::mean_image).
std::vector<float> MeanImageFromBgrChw(const std::vector<float>& bgr_chw, int height, int width);

}  // namespace alexnet::caffe
