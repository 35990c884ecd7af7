// `alexnet summary`: the seed's table derived from the built graph. Output shapes come from
// TensorFlow's shape inference (C API on the imported GraphDef); the formula in layers.cc
// cross-checks them, and parameter counts are read off the variables' inferred shapes.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "model/layers.h"

namespace alexnet::model {

struct SummaryRow {
  std::string name;      // conv1, lrn1, ...
  std::string kind;      // conv, lrn, maxpool, fc
  std::string geometry;  // "11x11 /4 pad 0", "3x3 /2", ""
  std::vector<int64_t> out_shape;  // H, W, C (conv stages) or units (FC), from TF shape inference
  int64_t params = 0;    // from the variables' inferred shapes
  int64_t macs = 0;      // forward multiply-accumulates per image
  Activation activation = Activation::kNone;  // what follows the layer (the variant's)
  bool dropout = false;  // dropout after the activation (when the model's rate is above 0)
  ReceptiveField field;          // of one output unit, in input pixels (layers.h)
  int64_t activation_bytes = 0;  // the output of one image in fp32
};

struct Summary {
  ModelOptions options;
  std::vector<SummaryRow> rows;
  int64_t total_params = 0;
  int64_t total_macs = 0;
  int64_t input_bytes = 0;             // one input image in fp32
  int64_t total_activation_bytes = 0;  // the input and every row's output, per image
};

// Builds the inference graph for opts and reads its shapes. Fails e.g. when the input size is
// too small or TensorFlow's shapes disagree with the formula.
Result<Summary> BuildSummary(const ModelOptions& opts);

// The table, then a note on the receptive field and activation columns.
void PrintSummary(const Summary& s, std::ostream& os);
// The same table and note as Markdown (docs are generated from it).
void PrintSummaryMarkdown(const Summary& s, std::ostream& os);

}  // namespace alexnet::model
