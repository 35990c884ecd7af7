// A trained model loaded from its run folder (config, class names, mean, checkpoint), and
// prediction on image files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/color_stats.h"
#include "data/preprocess.h"
#include "model/session.h"
#include "train/config.h"

namespace alexnet::train {

// How to run a trained model on this machine (not part of the model itself).
struct SessionChoice {
  int threads = 0;                             // TensorFlow intra-op threads (0 = all cores)
  std::optional<model::Precision> precision;   // unset: the precision the run was trained in
};

class TrainedModel {
 public:
  // run_dir: a folder written by `alexnet train`. checkpoint: "" for the best (else newest)
  // checkpoint of the run, or a checkpoint folder/prefix.
  static Result<std::unique_ptr<TrainedModel>> Open(const std::string& run_dir, const std::string& checkpoint,
                                                    const SessionChoice& choice = {});

  const TrainConfig& config() const { return config_; }
  const std::vector<std::string>& class_names() const { return classes_; }
  std::shared_ptr<const data::ColorStats> stats() const { return stats_; }
  const data::Normalization& normalization() const { return norm_; }
  data::PreprocessOptions preprocess() const;
  model::ModelSession* session() { return session_.get(); }
  const std::string& checkpoint_prefix() const { return prefix_; }

 private:
  TrainConfig config_;
  std::vector<std::string> classes_;
  std::shared_ptr<const data::ColorStats> stats_;
  data::Normalization norm_;
  std::unique_ptr<model::ModelSession> session_;
  std::string prefix_;
};

struct Prediction {
  std::string path;
  std::string error;                       // non-empty: the file could not be used
  std::vector<std::pair<int, float>> top;  // (class, probability), most probable first
};

// Image files named by `inputs`: files as given, folders' image files (sorted, recursively).
// A path that does not exist becomes a Prediction with an error.
std::vector<std::string> ExpandImageInputs(const std::vector<std::string>& inputs,
                                           std::vector<Prediction>* missing);

// Decodes, preprocesses (centre crop, the run's mean) and classifies files, `batch` at a time.
// A bad file gets an error and does not stop the others.
std::vector<Prediction> PredictFiles(TrainedModel* model, const std::vector<std::string>& files,
                                     int top_k, int batch);

}  // namespace alexnet::train
