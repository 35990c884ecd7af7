// The training loop's position and bookkeeping, saved as state.json in every checkpoint so that
// a resumed run continues exactly where it stopped. No TensorFlow here (the parsers are fuzzed
// in a build without it).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace alexnet::train {

struct TrainState {
  int64_t step = 0;            // optimisation steps done
  int64_t epoch = 0;           // data position of the next batch
  int64_t batch_in_epoch = 0;
  float learning_rate = 0.01f;
  int lr_drops = 0;            // times the learning rate was divided by 10
  int epochs_without_improvement = 0;
  double best_val_top1 = -1;   // best validation top-1 accuracy so far (-1: none yet)
  int64_t images_seen = 0;
  double train_seconds = 0;
  float last_loss = 0;
  // A cosine or one-cycle schedule over a time budget (Recipe::schedule_over_budget): its length in
  // steps, fixed once the first steps were timed (0: not yet). Kept so that a resumed run
  // continues on the same curve.
  int64_t schedule_steps = 0;
};

// state.json. Keys missing from a file written by an earlier version take the defaults above;
// step, epoch, batch_in_epoch and learning_rate are required.
nlohmann::json ToJson(const TrainState& s);
Result<TrainState> TrainStateFromJson(const nlohmann::json& j);

}  // namespace alexnet::train
