#include "train/resume_options.h"

#include <algorithm>

namespace alexnet::train {

const std::vector<ResumeOption>& ResumeOptions() {
  static const std::vector<ResumeOption> kOptions = {
      {"--run", nullptr, true},
      {"--resume", nullptr, true},
      // cosine and onecycle then span the new length (the rate continues on the curve of that
      // length); --lr-schedule, --warmup-steps and --label-smoothing are the recipe's, fixed
      {"--epochs", [](const TrainConfig& g, TrainConfig& r) { r.recipe.epochs = g.recipe.epochs; }, false},
      {"--time-budget", [](const TrainConfig& g, TrainConfig& r) { r.recipe.time_budget_s = g.recipe.time_budget_s; },
       false},
      // else the run keeps the precision it was started with
      {"--precision", [](const TrainConfig& g, TrainConfig& r) { r.model.precision = g.model.precision; }, false},
      {"--workers", [](const TrainConfig& g, TrainConfig& r) { r.run.workers = g.run.workers; }, true},
      {"--threads", [](const TrainConfig& g, TrainConfig& r) { r.run.threads = g.run.threads; }, true},
      {"--checkpoint-every",
       [](const TrainConfig& g, TrainConfig& r) { r.run.checkpoint_every = g.run.checkpoint_every; }, false},
      {"--keep", [](const TrainConfig& g, TrainConfig& r) { r.run.keep_checkpoints = g.run.keep_checkpoints; },
       false},
      {"--log-every", [](const TrainConfig& g, TrainConfig& r) { r.run.log_every_s = g.run.log_every_s; }, false},
      // the processes of this session, wherever the run started
      {"--cluster", [](const TrainConfig& g, TrainConfig& r) { r.cluster = g.cluster; }, true},
      {"--task", nullptr, true},
      {"--local-workers", nullptr, true},
      {"--collective-timeout", nullptr, true},
      {"--startup-timeout", nullptr, true},
  };
  return kOptions;
}

namespace {
const ResumeOption* Find(const std::string& flag) {
  const auto& t = ResumeOptions();
  const auto it = std::find_if(t.begin(), t.end(), [&](const ResumeOption& o) { return flag == o.flag; });
  return it == t.end() ? nullptr : &*it;
}
}  // namespace

bool TrainOverrides::Given(const std::string& flag) const {
  return std::find(given.begin(), given.end(), flag) != given.end();
}

std::vector<std::string> TrainOverrides::Fixed() const {
  std::vector<std::string> fixed;
  for (const std::string& flag : given) {
    if (Find(flag) == nullptr) fixed.push_back(flag);
  }
  return fixed;
}

bool TrainOverrides::Any() const {
  return std::any_of(given.begin(), given.end(), [](const std::string& flag) {
    const ResumeOption* o = Find(flag);
    return o != nullptr && o->take != nullptr && !o->every_session;
  });
}

TrainConfig ApplyResumeOptions(TrainConfig run, const TrainConfig& given, const TrainOverrides& overrides) {
  for (const ResumeOption& o : ResumeOptions()) {
    if (o.take != nullptr && (o.every_session || overrides.Given(o.flag))) o.take(given, run);
  }
  return run;
}

}  // namespace alexnet::train
