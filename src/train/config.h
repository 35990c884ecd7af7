// What a training run is: data, model, recipe and bookkeeping options. Stored as config.json in
// the run folder so that resume, eval, predict and export use exactly the same settings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/cluster_spec.h"
#include "model/layers.h"
#include "util/status.h"

namespace alexnet::train {

struct DataSpec {
  std::string source = "fashion-mnist";  // "fashion-mnist" or an image folder root/<class>/<img>
  std::string list_file;                 // optional "path label" list instead of folders
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  double val_fraction = 0.1;   // seeded, stratified validation split of the training data
  int64_t train_limit = 0;     // keep only this many training images (0 = all)
  int64_t val_limit = 0;       // likewise for validation
  int64_t test_limit = 0;      // likewise for the test split (set by `alexnet eval --limit`; not saved)
  uint64_t split_seed = 1;
  int resize = 256;            // S: shorter side -> S, central S x S
  int crop = 227;              // C: random (train) or central (eval) C x C crop
  bool per_pixel_mean = false; // the paper's mean image instead of the per-channel mean
  int64_t stats_images = 5000; // images sampled for the mean / PCA statistics (0 = all)
  int64_t max_pixels = 0;      // decode limit per image (0 = the library's default)
  bool strict_decode = false;  // skip a damaged JPEG (libjpeg warnings) instead of using it;
                               // in config.json only when set
};

// plateau: divide the learning rate by 10 when validation top-1 stops improving (the paper);
// step: divide it every Recipe::step_epochs epochs; cosine: from lr down to 0 over the run's
// steps; onecycle: Smith's one cycle, up from lr/25 to lr, then down to lr/250000 (PyTorch's
// OneCycleLR). plateau and step change the rate at epoch ends, cosine and onecycle at every step
// (schedule.h: LearningRateAt). Written "plateau" / "step" / "cosine" / "onecycle" in config.json.
enum class LrSchedule { kPlateau, kStep, kCosine, kOneCycle };
inline constexpr EnumNames<LrSchedule, 4> kLrScheduleNames = {{{LrSchedule::kPlateau, "plateau"},
                                                                {LrSchedule::kStep, "step"},
                                                                {LrSchedule::kCosine, "cosine"},
                                                                {LrSchedule::kOneCycle, "onecycle"}}};

struct Recipe {
  int batch = 128;
  int64_t epochs = 90;
  double time_budget_s = 0;    // stop (and save) after this much training time; 0 = none
  float lr = 0.01f;
  LrSchedule schedule = LrSchedule::kPlateau;
  int patience = 1;            // plateau: epochs without improvement before dividing
  int max_lr_drops = 3;        // the paper divided 3 times
  int step_epochs = 30;        // step: divide every this many epochs
  // Linear warm-up: step s < warmup_steps (0-based) trains at (s + 1) / warmup_steps of the
  // schedule's rate; onecycle: the length of its rising phase instead (default: 30 % of the
  // steps). 0 = none, as in the paper.
  int64_t warmup_steps = 0;
  // Cross-entropy against (1 - label_smoothing) * one-hot + label_smoothing / classes instead of
  // the one-hot labels; 0 = the plain cross-entropy of the paper. Training only: evaluation's
  // loss is always the plain cross-entropy.
  float label_smoothing = 0.0f;
  // cosine and onecycle over the time budget instead of the epochs (train's --time-budget without
  // --epochs): the schedule's length in steps is the budget divided by the time of the first steps,
  // timed once more a quarter of the way in (TrainState::schedule_steps; schedule.h), and the run
  // ends at its last step. One process only.
  bool schedule_over_budget = false;
  float momentum = 0.9f;
  float weight_decay = 5e-4f;
  bool random_crop = true;
  bool flip = true;
  bool pca_color = true;
};

struct RunOptions {
  std::string run_dir;
  int workers = 2;             // loader threads
  int threads = 0;             // TensorFlow intra-op threads (0 = all cores)
  int64_t checkpoint_every = 500;  // steps; also at every epoch end
  int keep_checkpoints = 3;
  double log_every_s = 10;     // progress line interval when not on a terminal
};

// Fine-tuning (`--init-from`, `--train-layers`): where the first weights came from, and which
// layers train. In config.json as "fine_tune" only when used; a resumed run keeps it and does
// not read the source again.
struct FineTune {
  std::string init_from;        // the source run folder ("" = the weights were initialised)
  std::string init_checkpoint;  // the source's checkpoint prefix the weights were read from
  int64_t init_step = 0;        // that checkpoint's step (0 for an imported model)
  std::vector<std::string> train_layers;  // the layers that train (model::ParseTrainLayers); empty = all
  bool used() const { return !init_from.empty() || !train_layers.empty(); }
};

struct TrainConfig {
  DataSpec data;
  model::ModelOptions model;
  Recipe recipe;
  RunOptions run;
  // Data-parallel training when not empty (recipe.batch is then the global batch). In
  // config.json as "cluster": {"workers": [...], "collective_timeout_s": ...} only when used;
  // a resumed run takes the cluster of its command line.
  model::ClusterSpec cluster;
  // Where the weights came from when the run was made by `alexnet import` rather than trained
  // (files, sizes, SHA-256, the mapping): "imported" in config.json, only in such runs.
  nlohmann::json imported;
  FineTune fine_tune;
};

// config.json. Keys missing from a file written by an earlier version take the defaults above;
// the "data", "model" and "recipe" sections and the fields every version wrote are required.
nlohmann::json ToJson(const TrainConfig& c);
Result<TrainConfig> TrainConfigFromJson(const nlohmann::json& j);
// Reads <run>/config.json and sets run.run_dir to `run_dir`.
Result<TrainConfig> LoadTrainConfig(const std::string& run_dir);

}  // namespace alexnet::train
