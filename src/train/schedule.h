// The bookkeeping at the end of an epoch, as small pure functions: the learning-rate schedule
// (the paper: divide by 10 when validation error stops improving) and the metrics record (one
// row of metrics.csv, one epoch line on the terminal). No I/O here, so each is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "train/config.h"
#include "train/train_state.h"

namespace alexnet::train {

struct ValMetrics {
  double loss = 0;
  double top1 = 0;
  double top5 = 0;
};

// One epoch as recorded: metrics.csv, the epoch line and TensorBoard all show these values.
struct EpochRecord {
  int64_t epoch = 0;   // 1-based, the epoch just finished
  bool partial = false;  // ended by the time budget before the epoch's last batch
  int64_t step = 0;
  double train_loss = 0;  // mean cross-entropy over the epoch's batches
  double train_top1 = 0;
  std::optional<ValMetrics> val;  // none without a validation split
  float learning_rate = 0;
  double images_per_s = 0;
  double train_seconds = 0;
};

std::string MetricsCsvHeader();
std::string MetricsCsvRow(const EpochRecord& r);
// "epoch 3  step 1266  train loss 0.4123  train top-1 0.8512  val loss ...  lr 0.01"
std::string EpochLine(const EpochRecord& r);

// What the end of an epoch changes in the run's state.
struct ScheduleDecision {
  TrainState state;         // best_val_top1, epochs_without_improvement, learning_rate, lr_drops
  bool best = false;        // this epoch has the best validation top-1 so far
  bool lr_dropped = false;  // the learning rate was divided by 10
};

// The schedule after epoch `epoch` (1-based). A partial epoch (time budget) can be the best but
// never counts towards the schedule. plateau: divide when validation top-1 has not improved for
// `patience` epochs, at most `max_lr_drops` times; step: divide every `step_epochs` epochs.
ScheduleDecision AfterEpoch(const Recipe& recipe, TrainState state, int64_t epoch, bool partial,
                            std::optional<double> val_top1);

}  // namespace alexnet::train
