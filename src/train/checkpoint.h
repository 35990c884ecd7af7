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
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"
#include "model/session.h"
#include "train/train_state.h"

namespace alexnet::train {

// A complete checkpoint: its variables' prefix ("<dir>/ckpt-N/model") and the loop's state.
struct CheckpointInfo {
  std::string prefix;
  TrainState state;
  std::vector<std::string> damaged;  // newer checkpoint folders skipped because they did not restore
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
  // Restores into `session` the newest checkpoint that restores: its state.json parses and
  // TensorFlow reads every variable (checksums included). best_first: try best/ before the
  // ckpt-N (for using a trained model; resuming wants the newest position). A damaged checkpoint
  // is named on stderr with the reason and skipped; its files are left as they are.
  Result<CheckpointInfo> RestoreNewest(model::ModelSession* session, bool best_first) const;
  // The prefix of a checkpoint given as a run folder, a ckpt-N/best folder or a prefix.
  static Result<std::string> ResolvePrefix(const std::string& path);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int keep_last_;
};

}  // namespace alexnet::train
