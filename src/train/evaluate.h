// Top-1 / top-5 evaluation (centre crop or ten-crop averaging), per-class accuracy and the
// confusion matrix.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tensorflow/core/framework/tensor.h>

#include "data/loader.h"
#include "model/session.h"

namespace alexnet::train {

struct EvalResult {
  int64_t images = 0;
  int64_t top1 = 0;      // correct at rank 1
  int64_t top5 = 0;      // label among the 5 most probable classes
  double loss_sum = 0;   // sum of -log p(label)
  int64_t skipped = 0;   // files that could not be read
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class]

  double top1_accuracy() const { return images ? double(top1) / images : 0; }
  double top5_accuracy() const { return images ? double(top5) / images : 0; }
  double mean_loss() const { return images ? loss_sum / images : 0; }
};

// Adds one batch's predictions (probabilities [N * views, classes]; ten-crop views averaged).
// An error, and nothing added, when the probabilities are not N * views rows of `classes` or a
// label is not a class index (a model and a dataset that do not belong together).
Status Accumulate(const tensorflow::Tensor& probabilities, const data::Batch& batch, int classes,
                  EvalResult* result);

// Where Evaluate shows its progress: nowhere; on a terminal only (one line rewritten in place; a
// training run's per-epoch validation, whose log gets the epoch line instead); or also in a log
// (at most ten lines, one per tenth of the batches).
enum class EvalProgress { kNone, kTerminalOnly, kTerminalOrLog };

// Runs the whole loader through the model: a session, or any function from images to probabilities.
Result<EvalResult> Evaluate(model::ModelSession* session, data::Loader* loader, int classes, EvalProgress progress);
using PredictFunction = std::function<Status(const tensorflow::Tensor& images, tensorflow::Tensor* probabilities)>;
Result<EvalResult> Evaluate(const PredictFunction& predict, data::Loader* loader, int classes, EvalProgress progress);

// Whether the non-terminal progress line is due after batch `done` of `total`: when done crosses a
// tenth of total (at most ten times; never for fewer than ten batches).
bool EvalProgressLineDue(long long done, long long total);

// Writes confusion.csv (rows: true class, columns: predicted) and per_class.csv.
Status WriteEvalCsv(const EvalResult& r, const std::vector<std::string>& class_names,
                         const std::string& confusion_path, const std::string& per_class_path);

}  // namespace alexnet::train
