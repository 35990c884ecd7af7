// Checkpoints of a training run: TensorFlow's V2 format (SaveV2) plus the loop's state as JSON,
// written so that a crash at any moment leaves the previous checkpoint usable.
//
// Layout under <run>/checkpoints/:
//   ckpt-<step>/model.index, model.data-00000-of-00001   variables ("conv1/weights", ...,
//                                                         "conv1/weights/Momentum", ...)
//   ckpt-<step>/state.json                                 step, epoch, data position, lr state
//   best/                                                  copy of the best by validation top-1
// A checkpoint is written into ckpt-<step>.tmp/ and renamed into place only when complete.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "data/status.h"
#include "model/session.h"

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
};

// state.json. Keys missing from a file written by an earlier version take the defaults above;
// step, epoch, batch_in_epoch and learning_rate are required.
nlohmann::json ToJson(const TrainState& s);
Result<TrainState> TrainStateFromJson(const nlohmann::json& j);

// A complete checkpoint: its variables' prefix ("<dir>/ckpt-N/model") and the loop's state.
struct CheckpointInfo {
  std::string prefix;
  TrainState state;
};

class CheckpointManager {
 public:
  CheckpointManager(std::string run_dir, int keep_last);

  // Saves a complete checkpoint for state.step.
  Status Save(model::ModelSession* session, const TrainState& state);
  // Makes the checkpoint of `step` the best one (copied to best/).
  Status MarkBest(int64_t step);
  // The newest complete checkpoint; an error naming dir() with "no complete checkpoint" if none.
  Result<CheckpointInfo> Latest() const;
  // The prefix of a checkpoint given as a run folder, a ckpt-N/best folder or a prefix.
  static Result<std::string> ResolvePrefix(const std::string& path);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int keep_last_;
};

}  // namespace alexnet::train
