// `alexnet time` (as Caffe's `caffe time`): where a training step's time goes, layer by layer.
//
// TensorFlow records every op it ran in a traced step (RunMetadata.step_stats). Forward ops
// carry their layer's name ("conv1/Conv2D"); the gradient ops TensorFlow adds do not
// ("Conv2DBackpropFilter_3"), so each is given the layer it differentiates by what it reads:
// that layer's weights (Conv2DBackpropInput, MatMul dX), that layer's output (ReluGrad,
// MaxPoolGrad, LRNGrad) or the gradient of that layer's output (Conv2DBackpropFilter,
// BiasAddGrad, MatMul dW). Ops grappler adds (bf16 casts) or renames (oneDNN kernels) keep the
// name of the node they came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/layers.h"
#include "model/tf_status.h"

namespace alexnet::model {

struct TimingOptions {
  ModelOptions model;   // num_classes, input_size, precision, ...
  int batch = 128;
  int iterations = 5;   // timed steps and inference batches (after one warm-up of each)
  int traced = 3;       // traced steps for the per-layer times (0: speeds only, no table)
  int threads = 0;      // TensorFlow intra-op threads (0 = all cores)
  // Fine-tuning's step: only these layers trained (SessionConfig::train_layers); empty = all.
  std::vector<std::string> train_layers;
};

struct LayerTime {
  std::string layer;        // a row of the table, or "loss", "update", "other"
  double forward_ms = 0;    // summed op time per step
  double backward_ms = 0;
  int64_t macs = 0;         // forward multiply-accumulates per image (0 for rows not in the table)
};

struct TimingReport {
  Precision precision = Precision::kFp32;  // the one that ran
  int batch = 0;
  int input_size = 0;
  std::vector<std::string> train_layers;  // as in TimingOptions: empty = all
  std::vector<LayerTime> rows;    // the table's layers in order, then loss, update, other
  double train_step_ms = 0;       // wall time of an untraced training step (mean)
  double forward_ms = 0;          // wall time of an untraced inference batch (mean)
  double traced_step_ms = 0;      // wall time of a traced step (tracing adds overhead)
  double op_time_ms = 0;          // sum of all op times of a traced step (ops run one at a time: <= its wall time)
  double TrainImagesPerSecond() const { return batch / (train_step_ms / 1000); }
  double InferenceImagesPerSecond() const { return batch / (forward_ms / 1000); }
};

// Builds the training graph, runs one warm-up step, times `iterations` training steps and
// inference batches on random data, then traces `traced` steps in a session that runs one op at
// a time (SessionConfig::one_op_at_a_time) and sums op times per layer.
Result<TimingReport> TimeLayers(const TimingOptions& options);

// The table as printed by `alexnet time`: per layer forward/backward ms, MACs and GFLOP/s.
std::string FormatTiming(const TimingReport& report);

}  // namespace alexnet::model
