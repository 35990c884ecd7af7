// `alexnet train`: a training run as named steps. Open() prepares it (data, statistics, run
// files, model, checkpoint, loader); Run() repeats Step() and, at the end of each epoch,
// EndEpoch() (validate, record, schedule, checkpoint), until the epochs are done, the time
// budget is spent or SIGINT/SIGTERM asks it to stop (then it saves and says how to resume).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "model/session.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/events.h"
#include "train/replica_run.h"
#include "util/files.h"
#include "train/resume_options.h"
#include "train/schedule.h"

namespace alexnet::train {

// Called after every epoch's validation and checkpoint (and after a partial epoch at the time
// budget): the place for reports such as training curves and conv1 filter images.
struct EpochEnd {
  const TrainConfig* config;
  int64_t epoch;  // 1-based, the epoch just finished
  int64_t step;
  model::ModelSession* session;
  EventLog* events;
};
using EpochHook = std::function<void(const EpochEnd&)>;

// Called after every training step: what the design-claim experiments record per step
// (src/report/experiment.h), e.g. how many steps and seconds a network needs to reach a
// training error.
struct StepEnd {
  int64_t step;          // 1-based, the step just taken
  int64_t epoch;         // 0-based epoch of its batch
  int batch;             // images in the batch
  int correct_top1;      // of those, classified correctly before the update
  float cross_entropy;   // mean over the batch, before the update
  double step_seconds;   // the SGD step itself (TensorFlow session), without waiting for input
  double train_seconds;  // the run's training time so far (validation included)
};
using StepHook = std::function<void(const StepEnd&)>;

struct InitSource;  // fine_tune.h

class TrainingRun {
 public:
  // With resume, the run folder's config.json and newest checkpoint are used (epochs and time
  // budget from `config` where `overrides` says so). Progress goes to `out`.
  static Result<std::unique_ptr<TrainingRun>> Open(TrainConfig config, bool resume, const TrainOverrides& overrides,
                                                   EpochHook on_epoch_end, std::ostream& out);
  // Trains until done, out of time or interrupted (ok: saved). Fails on an error that stops it;
  // a loss that became NaN or infinite is StatusCode::kNonFiniteLoss, which the design-claim
  // experiments record as a diverged run (one of their results) instead of stopping.
  Status Run();

  // Called after every step of Run() from now on.
  void set_step_hook(StepHook hook) { on_step_ = std::move(hook); }

  const TrainConfig& config() const { return config_; }
  const TrainState& state() const { return state_; }
  // The training session, its weights as Open() left them until Run() (the fine-tuning tests).
  model::ModelSession* session() { return session_.get(); }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Stop { kDone, kTimeBudget, kScheduleEnd, kSignal };

  TrainingRun(TrainConfig config, EpochHook hook, std::ostream& out);
  Status OpenData();
  Status LoadStatistics();
  Status CreateSession();
  Status WriteRunFiles();
  Status OpenModel(bool resume, const InitSource* source);
  Status RestoreCheckpoint();
  Status OpenLoader();
  Status Step(const data::Batch& batch, const model::StopVotes& votes, model::StepResult* r);
  Status EndEpoch(int64_t finished_epoch, bool partial);
  Result<std::optional<ValMetrics>> Validate();
  Status Save(const char* why);
  Status Finish(Stop stop);
  Status NonFiniteLoss(float loss) const;
  void PrintHeader() const;
  void PrintProgress(const data::Batch& batch, const model::StepResult& r);
  double Seconds() const;  // training time of the run so far, earlier sessions included
  float LearningRate() const;  // of the next step (schedule.h: NextLearningRate)
  // What cosine and onecycle span: total_steps_, or over a time budget the length fixed by
  // TimeSchedule (0 until then).
  int64_t ScheduleSteps() const;
  // Over a time budget: times the first steps of this process and then fixes the schedule's length.
  void TimeSchedule();
  void RetimeSchedule();  // once, from the pace of the steps after TimeSchedule fixed the length
  bool ScheduleEnded() const;  // over a time budget: its last step is done

  std::unique_ptr<RunFolderLock> lock_;  // held for the run's lifetime (the chief's only)
  // Only the chief of a cluster (or a single process) writes the run folder.
  bool chief_ = true;
  std::unique_ptr<ReplicaRun> replica_;  // with a cluster only: what a replica does differently
  TrainConfig config_;
  EpochHook on_epoch_end_;
  StepHook on_step_;
  std::ostream& out_;
  bool tty_ = false;
  std::shared_ptr<const data::Dataset> train_set_, val_set_;
  std::shared_ptr<const data::ColorStats> stats_;
  std::unique_ptr<model::ModelSession> session_;
  std::unique_ptr<CheckpointManager> checkpoints_;
  std::unique_ptr<data::Loader> loader_;
  std::unique_ptr<EventLog> events_;
  TrainState state_;
  int64_t total_steps_ = 0;  // epochs x steps per epoch: what cosine and onecycle span
  float last_lr_ = 0;        // the rate of the latest step (progress line, epoch record)
  int64_t timed_from_step_ = -1;  // TimeSchedule: the step its clock started after
  Clock::time_point timed_from_;
  int64_t fixed_at_step_ = -1;  // TimeSchedule: the step this process fixed the length at
  double fixed_at_seconds_ = 0;  // and Seconds() then, for the one re-timing (schedule.h)
  bool retimed_ = false;
  std::string metrics_path_;

  // This session's clock and the epoch's running totals.
  Clock::time_point start_;
  double seconds_before_ = 0;
  Clock::time_point last_log_, window_start_;
  int64_t window_images_ = 0;
  double images_per_s_ = 0;
  int64_t epoch_images_ = 0, epoch_correct_ = 0;
  double epoch_loss_ = 0;
};

// Opens and runs a training run, printing progress to `out`.
Status Train(TrainConfig config, bool resume, const TrainOverrides& overrides, const EpochHook& on_epoch_end,
             std::ostream& out);

}  // namespace alexnet::train
