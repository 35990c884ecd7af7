// The loader's options (data::LoaderOptions) that a run's config gives for training and for
// evaluation. No TensorFlow.
#pragma once

#include <memory>

#include "data/color_stats.h"
#include "data/loader.h"
#include "train/config.h"

namespace alexnet::train {

// Loader options for training (augmented, shuffled) or evaluation (centre or ten crops).
// `batch` is the number of crops per forward pass: with ten_crop a batch holds batch / 10 images
// (at least 1) of 10 crops each, so ten-crop evaluation needs no more memory than centre-crop.
data::LoaderOptions TrainLoaderOptions(const TrainConfig& c, std::shared_ptr<const data::ColorStats> stats);
data::LoaderOptions EvalLoaderOptions(const TrainConfig& c, std::shared_ptr<const data::ColorStats> stats,
                                      bool ten_crop, int batch);

}  // namespace alexnet::train
