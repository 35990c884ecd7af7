#include "train/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "train/files.h"

namespace alexnet::train {

namespace fs = std::filesystem;

nlohmann::json ToJson(const TrainState& s) {
  return {{"step", s.step},
          {"epoch", s.epoch},
          {"batch_in_epoch", s.batch_in_epoch},
          {"learning_rate", s.learning_rate},
          {"lr_drops", s.lr_drops},
          {"epochs_without_improvement", s.epochs_without_improvement},
          {"best_val_top1", s.best_val_top1},
          {"images_seen", s.images_seen},
          {"train_seconds", s.train_seconds},
          {"last_loss", s.last_loss}};
}

TrainState TrainStateFromJson(const nlohmann::json& j) {
  TrainState s;
  s.step = j.at("step").get<int64_t>();
  s.epoch = j.at("epoch").get<int64_t>();
  s.batch_in_epoch = j.at("batch_in_epoch").get<int64_t>();
  s.learning_rate = j.at("learning_rate").get<float>();
  s.lr_drops = j.value("lr_drops", 0);
  s.epochs_without_improvement = j.value("epochs_without_improvement", 0);
  s.best_val_top1 = j.value("best_val_top1", -1.0);
  s.images_seen = j.value("images_seen", int64_t{0});
  s.train_seconds = j.value("train_seconds", 0.0);
  s.last_loss = j.value("last_loss", 0.0f);
  return s;
}

CheckpointManager::CheckpointManager(std::string run_dir, int keep_last)
    : dir_((fs::path(run_dir) / "checkpoints").string()), keep_last_(std::max(1, keep_last)) {}

namespace {

std::vector<int64_t> CompleteSteps(const std::string& dir) {
  std::vector<int64_t> steps;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ckpt-", 0) != 0 || name.find('.') != std::string::npos) continue;
    if (!fs::exists(e.path() / "state.json") || !fs::exists(e.path() / "model.index")) continue;
    try {
      steps.push_back(std::stoll(name.substr(5)));
    } catch (...) {
    }
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::string CkptName(int64_t step) { return "ckpt-" + std::to_string(step); }

}  // namespace

std::string CheckpointManager::Save(model::ModelSession* session, const TrainState& state) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return dir_ + ": cannot create folder: " + ec.message();
  const fs::path final_dir = fs::path(dir_) / CkptName(state.step);
  const fs::path tmp = fs::path(dir_) / (CkptName(state.step) + ".tmp");
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return tmp.string() + ": cannot create folder: " + ec.message();
  const Status st = session->Save((tmp / "model").string());
  if (!st.ok()) {
    fs::remove_all(tmp, ec);
    return tmp.string() + ": writing the TensorFlow checkpoint failed: " + std::string(st.message());
  }
  if (std::string err = WriteFileAtomic((tmp / "state.json").string(), ToJson(state).dump(2) + "\n");
      !err.empty()) {
    fs::remove_all(tmp, ec);
    return err;
  }
  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir, ec);
  if (ec) return final_dir.string() + ": rename failed: " + ec.message();
  if (std::string err = SyncDirectory(dir_); !err.empty()) return err;
  // Keep the newest keep_last_ checkpoints.
  std::vector<int64_t> steps = CompleteSteps(dir_);
  for (size_t i = 0; i + keep_last_ < steps.size(); ++i) fs::remove_all(fs::path(dir_) / CkptName(steps[i]), ec);
  return "";
}

std::string CheckpointManager::MarkBest(int64_t step) {
  std::error_code ec;
  const fs::path src = fs::path(dir_) / CkptName(step);
  const fs::path tmp = fs::path(dir_) / "best.tmp";
  const fs::path old = fs::path(dir_) / "best.old";
  const fs::path best = fs::path(dir_) / "best";
  fs::remove_all(tmp, ec);
  fs::copy(src, tmp, fs::copy_options::recursive, ec);
  if (ec) return tmp.string() + ": copying the best checkpoint failed: " + ec.message();
  fs::remove_all(old, ec);
  if (fs::exists(best)) fs::rename(best, old, ec);
  fs::rename(tmp, best, ec);
  if (ec) return best.string() + ": rename failed: " + ec.message();
  fs::remove_all(old, ec);
  return SyncDirectory(dir_);
}

bool CheckpointManager::Latest(std::string* prefix, TrainState* state, std::string* error) const {
  // The highest complete ckpt-N: an unfinished one is still named .tmp and is ignored.
  std::vector<int64_t> steps = CompleteSteps(dir_);
  if (steps.empty()) return false;
  const fs::path chosen = fs::path(dir_) / CkptName(steps.back());
  std::string text;
  if (std::string err = ReadFile((chosen / "state.json").string(), &text); !err.empty()) {
    *error = err;
    return false;
  }
  try {
    *state = TrainStateFromJson(nlohmann::json::parse(text));
  } catch (const std::exception& e) {
    *error = (chosen / "state.json").string() + ": " + e.what();
    return false;
  }
  *prefix = (chosen / "model").string();
  return true;
}

std::string CheckpointManager::ResolvePrefix(const std::string& path, std::string* error) {
  const fs::path p(path);
  if (fs::exists(p.string() + ".index")) return p.string();
  if (fs::exists(p / "model.index")) return (p / "model").string();
  if (fs::is_directory(p / "checkpoints")) {
    const fs::path best = p / "checkpoints" / "best" / "model";
    if (fs::exists(best.string() + ".index")) return best.string();
    std::vector<int64_t> steps = CompleteSteps((p / "checkpoints").string());
    if (!steps.empty()) return (p / "checkpoints" / CkptName(steps.back()) / "model").string();
  }
  *error = path + ": no checkpoint found (expected a run folder, a checkpoint folder or a prefix with .index)";
  return "";
}

}  // namespace alexnet::train
