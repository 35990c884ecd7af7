// `alexnet train`: the training loop with the paper's recipe, progress, validation, checkpoints,
// resume, signals and fault handling.
#pragma once

#include <string>

#include "train/config.h"

namespace alexnet::train {

struct TrainOverrides {  // what a resumed run may change on its command line
  bool epochs = false;
  bool time_budget = false;
};

// Trains as `config` says, in config.run.run_dir. With resume, the run folder's config.json and
// newest checkpoint are used (epochs/time budget from `config` where `overrides` says so).
// Returns the process exit status: 0 done or interrupted-and-saved, 1 error.
int Train(TrainConfig config, bool resume, const TrainOverrides& overrides);

}  // namespace alexnet::train
