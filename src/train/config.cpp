#include "train/config.h"

#include <algorithm>
#include <filesystem>

#include "data/fashion_mnist.h"
#include "data/image_folder.h"
#include "data/ten_crop.h"
#include "train/files.h"

namespace alexnet::train {

nlohmann::json ToJson(const TrainConfig& c) {
  const auto& d = c.data;
  const auto& m = c.model;
  const auto& r = c.recipe;
  return {
      {"data",
       {{"source", d.source}, {"list_file", d.list_file}, {"fashion_dir", d.fashion_dir},
        {"val_fraction", d.val_fraction}, {"train_limit", d.train_limit}, {"val_limit", d.val_limit},
        {"split_seed", d.split_seed}, {"resize", d.resize}, {"crop", d.crop},
        {"per_pixel_mean", d.per_pixel_mean}, {"stats_images", d.stats_images},
        {"max_pixels", d.max_pixels}}},
      {"model",
       {{"num_classes", m.num_classes}, {"input_size", m.input_size}, {"lrn", m.lrn},
        {"dropout_rate", m.dropout_rate}, {"init", m.init == model::Init::kHe ? "he" : "paper"},
        {"init_stddev", m.init_stddev}, {"input_stddev", m.input_stddev},
        {"standardize_input", m.standardize_input}, {"seed", m.seed},
        {"lrn_depth_radius", m.lrn_params.depth_radius}, {"lrn_bias", m.lrn_params.bias},
        {"lrn_alpha", m.lrn_params.alpha}, {"lrn_beta", m.lrn_params.beta}}},
      {"recipe",
       {{"batch", r.batch}, {"epochs", r.epochs}, {"time_budget_s", r.time_budget_s}, {"lr", r.lr},
        {"schedule", r.schedule}, {"patience", r.patience}, {"max_lr_drops", r.max_lr_drops},
        {"step_epochs", r.step_epochs}, {"momentum", r.momentum}, {"weight_decay", r.weight_decay},
        {"random_crop", r.random_crop}, {"flip", r.flip}, {"pca_color", r.pca_color}}},
      {"run",
       {{"workers", c.run.workers}, {"threads", c.run.threads},
        {"checkpoint_every", c.run.checkpoint_every}, {"keep_checkpoints", c.run.keep_checkpoints},
        {"log_every_s", c.run.log_every_s}}}};
}

TrainConfig TrainConfigFromJson(const nlohmann::json& j) {
  TrainConfig c;
  const auto& d = j.at("data");
  c.data.source = d.at("source");
  c.data.list_file = d.value("list_file", "");
  c.data.fashion_dir = d.value("fashion_dir", c.data.fashion_dir);
  c.data.val_fraction = d.at("val_fraction");
  c.data.train_limit = d.value("train_limit", int64_t{0});
  c.data.val_limit = d.value("val_limit", int64_t{0});
  c.data.split_seed = d.value("split_seed", uint64_t{1});
  c.data.resize = d.at("resize");
  c.data.crop = d.at("crop");
  c.data.per_pixel_mean = d.value("per_pixel_mean", false);
  c.data.stats_images = d.value("stats_images", int64_t{5000});
  c.data.max_pixels = d.value("max_pixels", int64_t{0});
  const auto& m = j.at("model");
  c.model.num_classes = m.at("num_classes");
  c.model.input_size = m.at("input_size");
  c.model.lrn = m.at("lrn");
  c.model.dropout_rate = m.at("dropout_rate");
  c.model.init = m.value("init", "paper") == "he" ? model::Init::kHe : model::Init::kPaper;
  c.model.init_stddev = m.value("init_stddev", 0.01f);
  c.model.input_stddev = m.value("input_stddev", 1.0f);
  c.model.standardize_input = m.value("standardize_input", false);  // runs from before the flag: off
  c.model.seed = m.value("seed", int64_t{1});
  c.model.lrn_params.depth_radius = m.value("lrn_depth_radius", 2);
  c.model.lrn_params.bias = m.value("lrn_bias", 2.0f);
  c.model.lrn_params.alpha = m.value("lrn_alpha", 1e-4f);
  c.model.lrn_params.beta = m.value("lrn_beta", 0.75f);
  const auto& r = j.at("recipe");
  c.recipe.batch = r.at("batch");
  c.recipe.epochs = r.at("epochs");
  c.recipe.time_budget_s = r.value("time_budget_s", 0.0);
  c.recipe.lr = r.at("lr");
  c.recipe.schedule = r.value("schedule", "plateau");
  c.recipe.patience = r.value("patience", 1);
  c.recipe.max_lr_drops = r.value("max_lr_drops", 3);
  c.recipe.step_epochs = r.value("step_epochs", 30);
  c.recipe.momentum = r.value("momentum", 0.9f);
  c.recipe.weight_decay = r.value("weight_decay", 5e-4f);
  c.recipe.random_crop = r.value("random_crop", true);
  c.recipe.flip = r.value("flip", true);
  c.recipe.pca_color = r.value("pca_color", true);
  if (j.contains("run")) {
    const auto& u = j.at("run");
    c.run.workers = u.value("workers", 2);
    c.run.threads = u.value("threads", 0);
    c.run.checkpoint_every = u.value("checkpoint_every", int64_t{500});
    c.run.keep_checkpoints = u.value("keep_checkpoints", 3);
    c.run.log_every_s = u.value("log_every_s", 10.0);
  }
  return c;
}

std::string LoadTrainConfig(const std::string& run_dir, TrainConfig* config) {
  const std::string path = run_dir + "/config.json";
  std::string text;
  if (std::string err = ReadFile(path, &text); !err.empty()) return err;
  try {
    *config = TrainConfigFromJson(nlohmann::json::parse(text));
  } catch (const std::exception& e) {
    return path + ": not a valid run configuration: " + e.what();
  }
  config->run.run_dir = run_dir;
  return "";
}

data::Result<std::shared_ptr<const data::Dataset>> OpenDataset(const DataSpec& spec, Split split) {
  data::SplitOptions so;
  so.seed = spec.split_seed;
  so.val_fraction = split == Split::kTest ? 0.0 : spec.val_fraction;
  so.subset = split == Split::kVal    ? data::Subset::kVal
              : split == Split::kTest ? data::Subset::kAll
                                      : data::Subset::kTrain;
  const int64_t limit = split == Split::kTrain ? spec.train_limit
                        : split == Split::kVal ? spec.val_limit
                                               : spec.test_limit;
  if (spec.source == "fashion-mnist") {
    data::FashionMnistOptions o;
    o.dir = spec.fashion_dir;
    o.train = split != Split::kTest;
    o.split = so;
    o.limit = static_cast<size_t>(limit);
    auto ds = data::FashionMnistDataset::open(o);
    if (!ds.ok()) return ds.status();
    return std::shared_ptr<const data::Dataset>(ds.value());
  }
  data::ImageFolderOptions o;
  o.root = spec.source;
  o.list_file = spec.list_file;
  o.split = so;
  if (spec.max_pixels > 0) o.decode.max_pixels = static_cast<uint64_t>(spec.max_pixels);
  if (split == Split::kTest) {
    // An image folder has no separate test files: "test" means the validation split.
    o.split.subset = data::Subset::kVal;
    o.split.val_fraction = spec.val_fraction;
  }
  o.limit = static_cast<size_t>(limit);
  auto ds = data::ImageFolderDataset::open(o);
  if (!ds.ok()) return ds.status();
  return std::shared_ptr<const data::Dataset>(ds.value());
}

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
  return o;
}

}  // namespace alexnet::train
