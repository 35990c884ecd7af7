// `alexnet train`: the training loop with the paper's recipe, progress, validation, checkpoints,
// resume, signals and fault handling.
#pragma once

#include <functional>
#include <string>

#include "model/session.h"
#include "train/config.h"
#include "train/events.h"

namespace alexnet::train {

struct TrainOverrides {  // what a resumed run may change on its command line
  bool epochs = false;
  bool time_budget = false;
};

// Called after every epoch's validation and checkpoint (and after a partial epoch at the time
// budget): the place for reports such as training curves and conv1 filter images.
struct EpochEnd {
  const TrainConfig* config;
  int64_t epoch;  // 1-based, the epoch just finished
  int64_t step;
  model::ModelSession* session;
  EventLog* events;
};
using EpochHook = std::function<void(const EpochEnd&)>;

// Trains as `config` says, in config.run.run_dir. With resume, the run folder's config.json and
// newest checkpoint are used (epochs/time budget from `config` where `overrides` says so).
// Returns the process exit status: 0 done or interrupted-and-saved, 1 error.
int Train(TrainConfig config, bool resume, const TrainOverrides& overrides,
          const EpochHook& on_epoch_end = nullptr);

}  // namespace alexnet::train
