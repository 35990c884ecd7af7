// Fine-tuning: a new run that starts from another run's weights (`train --init-from RUN`) and may
// train only some layers (`--train-layers fc6,fc7,fc8`; the frozen ones are SessionConfig's).
//
// The new run keeps its source's input convention, since the copied weights were learnt on inputs
// prepared that way: resize S and crop C, the mean (per-channel or the mean image, copied from
// the source's color_stats.json), the input scale (--standardize and the standard deviation it
// divides by), LRN and its constants, the activation and the pooling. A flag that says otherwise is
// refused rather than overridden. Every layer whose parameters have the source's shapes starts
// from the source's values, bit for bit; the others (fc8 when the class count differs) start as a
// new run's would, each said in one line. Momentum accumulators start at zero.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "data/color_stats.h"
#include "model/session.h"
#include "train/config.h"
#include "train/train_state.h"
#include "train/trained_model.h"
#include "util/status.h"

namespace alexnet::train {

// The run fine-tuning starts from, opened: its config, and its parameters restored from its best
// checkpoint, else its newest that restores (a checkpoint without momentum accumulators, as an
// imported model's, restores too).
struct InitSource {
  std::string dir;
  std::unique_ptr<TrainedModel> model;
  TrainState state;  // of the checkpoint read (step 0 for an imported model)
};

// Opens `dir` as the source of a fine-tuning run; an error names `dir` when it is not a run
// folder or its checkpoint does not restore.
Result<InitSource> OpenInitSource(const std::string& dir, int threads);

// Takes the source's input convention into `config` (see above) and records the source in
// config->fine_tune. `given` names the options given on the command line (TrainOverrides::given):
// one that contradicts the source is refused, naming the flag, its value and the source's. --init
// is the source's unless given (it only concerns the layers that start anew).
Status AdoptSourceConvention(const InitSource& source, const std::vector<std::string>& given, TrainConfig* config);

// The new data's colour statistics with the source's mean (per-channel and per-pixel): the
// network subtracts what it was trained with. The principal components (PCA colour augmentation)
// stay the new data's own.
data::ColorStats WithSourceMean(data::ColorStats computed, const data::ColorStats& source);

// Sets every layer of `target` whose parameters all have the source's shapes to the source's
// values; prints one line naming the copied layers and one line for each layer that keeps its new
// weights (e.g. "fc8: new weights (10 classes here, 1000 in runs/imagenet)").
Status CopyMatchingLayers(const InitSource& source, model::ModelSession* target, std::ostream& out);

// "conv1, conv2": names joined for a message.
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace alexnet::train
