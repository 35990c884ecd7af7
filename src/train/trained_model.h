// A trained model loaded from its run folder (config, class names, mean, checkpoint): what eval,
// predict, export, inspect and filters open a run with.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/color_stats.h"
#include "data/preprocess.h"
#include "model/session.h"
#include "train/classifier.h"
#include "train/config.h"
#include "util/status.h"

namespace alexnet::train {

// How to run a trained model on this machine (not part of the model itself).
struct SessionChoice {
  int threads = 0;                             // TensorFlow intra-op threads (0 = all cores)
  std::optional<model::Precision> precision;   // unset: the precision the run was trained in
};

class TrainedModel : public Classifier {
 public:
  // run_dir: a folder written by `alexnet train`. checkpoint: "" for the best (else newest)
  // checkpoint of the run, or a checkpoint folder/prefix.
  static Result<std::unique_ptr<TrainedModel>> Open(const std::string& run_dir, const std::string& checkpoint,
                                                    const SessionChoice& choice = {});

  const TrainConfig& config() const override { return config_; }
  const std::vector<std::string>& class_names() const override { return classes_; }
  std::shared_ptr<const data::ColorStats> stats() const override { return stats_; }
  const data::Normalization& normalization() const override { return norm_; }
  data::PreprocessOptions preprocess() const override;
  Status Predict(const tensorflow::Tensor& images, tensorflow::Tensor* probabilities) override {
    return session_->Predict(images, probabilities);
  }
  const std::string& origin() const override { return prefix_; }
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

}  // namespace alexnet::train
