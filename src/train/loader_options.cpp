#include "train/loader_options.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "data/ten_crop.h"

namespace alexnet::train {

data::LoaderOptions TrainLoaderOptions(const TrainConfig& c, std::shared_ptr<const data::ColorStats> stats) {
  data::LoaderOptions o;
  o.batch_size = c.recipe.batch;
  o.workers = c.run.workers;
  o.queue_depth = std::max(2, c.run.workers + 1);
  o.seed = static_cast<uint64_t>(c.model.seed);
  o.shuffle = true;
  o.augment = true;
  o.augmentation.random_crop = c.recipe.random_crop;
  o.augmentation.flip = c.recipe.flip;
  o.augmentation.pca_color = c.recipe.pca_color;
  o.drop_last = false;
  o.preprocess.resize = c.data.resize;
  o.preprocess.crop = c.data.crop;
  o.preprocess.mean = c.data.per_pixel_mean ? data::MeanMode::kPerPixel : data::MeanMode::kPerChannel;
  o.stats = std::move(stats);
  o.epochs = c.recipe.epochs;
  if (c.cluster.enabled()) {
    o.shard = c.cluster.task;
    o.shards = c.cluster.size();
  }
  return o;
}

data::LoaderOptions EvalLoaderOptions(const TrainConfig& c, std::shared_ptr<const data::ColorStats> stats,
                                      bool ten_crop, int batch) {
  data::LoaderOptions o = TrainLoaderOptions(c, std::move(stats));
  o.batch_size = ten_crop ? std::max(1, batch / data::kTenCrops) : batch;
  o.shuffle = false;
  o.augment = false;
  o.ten_crop = ten_crop;
  o.epochs = 1;
  o.shard = 0;  // evaluation reads the whole split (a distributed run's validation shards it itself)
  o.shards = 1;
  return o;
}

}  // namespace alexnet::train
