#include "train/predict.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/decode.h"
#include "data/image_folder.h"
#include "model/ranking.h"
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

std::vector<std::string> ExpandImageInputs(const std::vector<std::string>& inputs,
                                           std::vector<Prediction>* missing) {
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && data::HasImageExtension(it->path().filename().string())) {
          found.push_back(it->path().string());
        }
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) missing->push_back({in, "folder holds no image files", {}});
      files.insert(files.end(), found.begin(), found.end());
    } else if (!fs::exists(fs::symlink_status(in, ec))) {
      missing->push_back({in, "no such file or folder", {}});
    } else {
      files.push_back(in);  // decode reports what is wrong with it, if anything
    }
  }
  return files;
}

std::vector<Prediction> PredictFiles(TrainedModel* model, const std::vector<std::string>& files, int top_k,
                                     int batch) {
  std::vector<Prediction> results(files.size());
  const data::PreprocessOptions pre = model->preprocess();
  const int c = pre.crop;
  const int classes = static_cast<int>(model->class_names().size());
  data::DecodeOptions decode;
  if (model->config().data.max_pixels > 0) decode.max_pixels = model->config().data.max_pixels;
  decode.strict_jpeg = model->config().data.strict_decode;
  cv::Mat rgb;
  for (size_t start = 0; start < files.size(); start += batch) {
    const size_t end = std::min(files.size(), start + batch);
    tensorflow::Tensor images(tensorflow::DT_FLOAT, {int64_t(end - start), c, c, 3});
    std::vector<size_t> good;
    for (size_t i = start; i < end; ++i) {
      results[i].path = files[i];
      Status st = data::DecodeImageFile(files[i], decode, rgb);
      if (st.ok()) {
        st = data::PreprocessEval(rgb, pre, model->normalization(),
                                   images.flat<float>().data() + good.size() * size_t(c) * c * 3);
      }
      if (!st.ok()) {
        results[i].error = st.reason();
        continue;
      }
      good.push_back(i);
    }
    if (good.empty()) continue;
    tensorflow::Tensor probs;
    const Status st = model->session()->Predict(images.Slice(0, static_cast<int64_t>(good.size())), &probs);
    for (size_t k = 0; k < good.size(); ++k) {
      Prediction& p = results[good[k]];
      if (!st.ok()) {
        p.error = "prediction failed: " + st.message();
        continue;
      }
      const float* row = probs.flat<float>().data() + k * classes;
      for (int cls : model::TopK(row, classes, top_k)) p.top.emplace_back(cls, row[cls]);
    }
  }
  return results;
}

}  // namespace alexnet::train
