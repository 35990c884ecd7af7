#include "train/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <utility>
#include <vector>

#include "util/files.h"

namespace alexnet::train {

namespace fs = std::filesystem;

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

// The state.json of a checkpoint folder.
Result<TrainState> ReadState(const fs::path& folder) {
  const std::string state_path = (folder / "state.json").string();
  ALEXNET_ASSIGN_OR_RETURN(const std::string text, ReadFile(state_path));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::BadInput(state_path, "not valid JSON");
  Result<TrainState> state = TrainStateFromJson(j);
  if (!state.ok()) return Status::Error(state.status().code(), state_path, state.status().reason());
  return state;
}


}  // namespace

Status CheckpointManager::Save(model::ModelSession* session, const TrainState& state) {
  ALEXNET_RETURN_IF_ERROR(MakeFolder(dir_));
  std::error_code ec;
  const fs::path final_dir = fs::path(dir_) / CkptName(state.step);
  const fs::path tmp = fs::path(dir_) / (CkptName(state.step) + ".tmp");
  fs::remove_all(tmp, ec);
  ALEXNET_RETURN_IF_ERROR(MakeFolder(tmp.string()));
  if (const Status st = session->Save((tmp / "model").string()); !st.ok()) {
    fs::remove_all(tmp, ec);
    return Status::Io(tmp.string(), "writing the TensorFlow checkpoint failed: " + st.reason());
  }
  if (Status written = WriteFileAtomic((tmp / "state.json").string(), ToJson(state).dump(2) + "\n"); !written.ok()) {
    fs::remove_all(tmp, ec);
    return written;
  }
  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir, ec);
  if (ec) return Status::Io(final_dir.string(), "rename failed: " + ec.message());
  ALEXNET_RETURN_IF_ERROR(SyncDirectory(dir_));
  // Keep the newest keep_last_ checkpoints.
  std::vector<int64_t> steps = CompleteSteps(dir_);
  for (size_t i = 0; i + keep_last_ < steps.size(); ++i) fs::remove_all(fs::path(dir_) / CkptName(steps[i]), ec);
  return Status::Ok();
}

Status CheckpointManager::MarkBest(int64_t step) {
  std::error_code ec;
  const fs::path src = fs::path(dir_) / CkptName(step);
  const fs::path tmp = fs::path(dir_) / "best.tmp";
  const fs::path old = fs::path(dir_) / "best.old";
  const fs::path best = fs::path(dir_) / "best";
  fs::remove_all(tmp, ec);
  fs::copy(src, tmp, fs::copy_options::recursive, ec);
  if (ec) return Status::Io(tmp.string(), "copying the best checkpoint failed: " + ec.message());
  fs::remove_all(old, ec);
  if (fs::exists(best)) fs::rename(best, old, ec);
  fs::rename(tmp, best, ec);
  if (ec) return Status::Io(best.string(), "rename failed: " + ec.message());
  fs::remove_all(old, ec);
  return SyncDirectory(dir_);
}

Result<CheckpointInfo> CheckpointManager::Latest() const {
  // The highest complete ckpt-N: an unfinished one is still named .tmp and is ignored.
  std::vector<int64_t> steps = CompleteSteps(dir_);
  if (steps.empty()) return Status::NotFound(dir_, "no complete checkpoint");
  const fs::path chosen = fs::path(dir_) / CkptName(steps.back());
  ALEXNET_ASSIGN_OR_RETURN(TrainState state, ReadState(chosen));
  return CheckpointInfo{(chosen / "model").string(), std::move(state), {}};
}


Result<CheckpointInfo> CheckpointManager::RestoreNewest(model::ModelSession* session, bool best_first) const {
  std::vector<fs::path> candidates;
  if (best_first && fs::exists(fs::path(dir_) / "best" / "model.index")) candidates.push_back(fs::path(dir_) / "best");
  const std::vector<int64_t> steps = CompleteSteps(dir_);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) candidates.push_back(fs::path(dir_) / CkptName(*it));
  if (candidates.empty()) return Status::NotFound(dir_, "no complete checkpoint");
  std::vector<std::string> damaged;
  for (const fs::path& folder : candidates) {
    Result<TrainState> state = ReadState(folder);
    const std::string prefix = (folder / "model").string();
    const Status restored = state.ok() ? session->Restore(prefix) : state.status();
    if (restored.ok()) return CheckpointInfo{prefix, std::move(state).value(), damaged};
    // TensorFlow's reason ("Checksum does not match", "Read less bytes than requested") without
    // the graph node it adds on a second line.
    const std::string reason = restored.reason().substr(0, restored.reason().find('\n'));
    std::cerr << "alexnet: " << folder.string() << ": damaged checkpoint skipped (" << reason << ")\n";
    damaged.push_back(folder.string());
  }
  std::string names;
  for (const std::string& d : damaged) names += (names.empty() ? "" : "; ") + fs::path(d).filename().string();
  return Status::BadInput(dir_, "no checkpoint restores (damaged: " + names + ")");
}

Result<std::string> CheckpointManager::ResolvePrefix(const std::string& path) {
  const fs::path p(path);
  if (fs::exists(p.string() + ".index")) return p.string();
  if (fs::exists(p / "model.index")) return (p / "model").string();
  if (fs::is_directory(p / "checkpoints")) {
    const fs::path best = p / "checkpoints" / "best" / "model";
    if (fs::exists(best.string() + ".index")) return best.string();
    std::vector<int64_t> steps = CompleteSteps((p / "checkpoints").string());
    if (!steps.empty()) return (p / "checkpoints" / CkptName(steps.back()) / "model").string();
  }
  return Status::NotFound(path,
                       "no checkpoint found (expected a run folder, a checkpoint folder or a prefix with .index)");
}

}  // namespace alexnet::train
