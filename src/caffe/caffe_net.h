// Reading Caffe's AlexNet (bvlc_alexnet): the network description (deploy.prototxt) and its
// weights (.caffemodel, Caffe's current `layer` format or the legacy V1 `layers`) are read with
// OpenCV's DNN module; the network is checked against the seed table row by row, and each
// parameter is handed on in our layout (mapping.h). No TensorFlow here: OpenCV's protobuf and the
// wheel's clash in one process (docs/tensorflow.md), so this runs in `alexnet-caffe-read`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "caffe/mapping.h"
#include "model/layers.h"
#include "util/status.h"

namespace alexnet::caffe {

// The files: their paths (read by OpenCV, and named in messages), or their bytes when both
// prototxt and caffemodel are not empty (the fuzz target; the paths then only name them).
struct CaffeFiles {
  std::string prototxt_path, caffemodel_path;
  std::string prototxt, caffemodel;
};

// What the import learned about the network besides its weights.
struct CaffeNetInfo {
  model::ModelOptions model;             // num_classes (fc8's outputs) and the LRN constants
  std::vector<std::string> layers;       // one line per Caffe layer, as the record in config.json
  std::vector<int> groups;               // per convolution, conv1..conv5 (bvlc_alexnet: 1 2 1 2 2)
};

// Receives one of our parameters ("conv1/weights" [11, 11, 3, 96], ...), in the table's order.
using ParameterSink = std::function<Status(const std::string& name, const Array& value)>;

// Parses both files with OpenCV (errors name the file OpenCV could not read), checks that the
// network is the seed table's (the same layers in the same order, each with the table's kernel,
// stride, padding and width, ReLU where the table has it; Dropout and a final Softmax are
// allowed; any other difference is an error naming the Caffe layer, its shape and the table's),
// then maps and hands on every parameter. The network is released before it returns.
Result<CaffeNetInfo> ReadCaffeAlexNet(const CaffeFiles& files, const ParameterSink& sink);

}  // namespace alexnet::caffe
