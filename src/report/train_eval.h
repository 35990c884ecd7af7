// The training accuracy measured fairly: after every epoch, the training subset through the
// model the way validation is measured (centre crop, dropout off), appended to
// <run>/train_eval.csv. The running training accuracy of metrics.csv has dropout and
// augmentation active, which would flatter a model without them; the train/validation gap of
// the dropout, pooling and augmentation experiments is taken from this file instead.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>

#include "data/color_stats.h"
#include "data/dataset.h"
#include "util/status.h"
#include "train/trainer.h"

namespace alexnet::report {

// An EpochHook body. A hook cannot stop training: the first failure is kept for the caller.
class TrainEvalHook {
 public:
  TrainEvalHook(std::ostream& out, int batch) : out_(&out), batch_(batch) {}

  void operator()(const train::EpochEnd& e);
  const Status& status() const { return status_; }

 private:
  Status EvaluateTrainingSubset(const train::EpochEnd& e);
  Status OpenTrainingSubset(const train::TrainConfig& config);

  std::ostream* out_;
  int batch_;
  std::shared_ptr<const data::Dataset> train_set_;
  std::shared_ptr<const data::ColorStats> stats_;
  Status status_;
};

// <run>/train_eval.csv: epoch -> training top-1.
Result<std::map<int64_t, double>> ReadTrainEval(const std::string& eval_path);

}  // namespace alexnet::report
