#include "train/trained_model.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <utility>

#include "train/checkpoint.h"

namespace alexnet::train {

namespace fs = std::filesystem;

Result<std::unique_ptr<TrainedModel>> TrainedModel::Open(const std::string& run_dir, const std::string& checkpoint,
                                                         const SessionChoice& choice) {
  auto m = std::make_unique<TrainedModel>();
  ALEXNET_ASSIGN_OR_RETURN(m->config_, LoadTrainConfig(run_dir));
  std::ifstream names(run_dir + "/classes.txt");
  if (!names) return Status::Error(ErrnoCode(errno), run_dir + "/classes.txt", "cannot open");
  for (std::string line; std::getline(names, line);) {
    if (!line.empty()) m->classes_.push_back(line);
  }
  if (static_cast<int>(m->classes_.size()) != m->config_.model.num_classes) {
    return Status::BadInput(run_dir + "/classes.txt", std::to_string(m->classes_.size()) + " names for " +
                                                       std::to_string(m->config_.model.num_classes) + " classes");
  }
  ALEXNET_ASSIGN_OR_RETURN(data::ColorStats stats, data::LoadColorStats(run_dir + "/color_stats.json"));
  m->stats_ = std::make_shared<data::ColorStats>(std::move(stats));
  ALEXNET_ASSIGN_OR_RETURN(m->norm_, data::MakeNormalization(m->stats_.get(), m->preprocess()));

  model::SessionConfig sc;
  sc.model = m->config_.model;
  sc.training = false;
  sc.threads = choice.threads;
  if (choice.precision) sc.model.precision = *choice.precision;
  ALEXNET_ASSIGN_OR_RETURN(m->session_, model::ModelSession::Create(sc));
  if (checkpoint.empty() && fs::is_directory(fs::path(run_dir) / "checkpoints")) {
    // The run's best, else its newest checkpoint that restores (a damaged one is skipped).
    const CheckpointManager run_checkpoints(run_dir, 1);
    ALEXNET_ASSIGN_OR_RETURN(const CheckpointInfo info, run_checkpoints.RestoreNewest(m->session_.get(), true));
    m->prefix_ = info.prefix;
    return m;
  }
  ALEXNET_ASSIGN_OR_RETURN(m->prefix_, CheckpointManager::ResolvePrefix(checkpoint.empty() ? run_dir : checkpoint));
  const Status restored = m->session_->Restore(m->prefix_);
  if (!restored.ok()) return Status::Error(restored.code(), m->prefix_, "cannot restore: " + restored.reason());
  return m;
}

data::PreprocessOptions TrainedModel::preprocess() const {
  data::PreprocessOptions p;
  p.resize = config_.data.resize;
  p.crop = config_.data.crop;
  p.mean = config_.data.per_pixel_mean ? data::MeanMode::kPerPixel : data::MeanMode::kPerChannel;
  return p;
}

}  // namespace alexnet::train
