#include "train/trainer.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "data/color_stats.h"
#include "train/batch_tensors.h"
#include "train/fine_tune.h"
#include "train/evaluate.h"
#include "train/loader_options.h"
#include "train/open_dataset.h"
#include "util/files.h"
#include "model/precision.h"
#include "model/summary.h"
#include "util/format.h"

namespace alexnet::train {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_signal{0};

// SIGINT/SIGTERM ask the loop to finish its step, save and exit; a second one kills at once
// (SA_RESETHAND restores the default action).
void OnSignal(int sig) { g_signal.store(sig); }

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Data-parallel fine-tuning is not supported: the graph of a replica trains only the given layers
// (replicas.cpp), but the other replicas would need the source's input convention and statistics,
// which only the chief reads. Refused rather than half done.
Status RefuseFineTuningInCluster(const TrainConfig& c) {
  if (!c.cluster.enabled() || !c.fine_tune.used()) return Status::Ok();
  return Status::BadInput("", "--init-from and --train-layers are not supported with data-parallel training "
                              "(--cluster, --local-workers, TF_CONFIG) yet; fine-tune in one process");
}

// The run folder's saved config, with what a resumed run may change taken from `given`.
Result<TrainConfig> ResumedConfig(const TrainConfig& given, const TrainOverrides& overrides) {
  Result<TrainConfig> loaded = LoadTrainConfig(given.run.run_dir);
  if (!loaded.ok()) return loaded.status().With("cannot resume");
  return ApplyResumeOptions(std::move(loaded).value(), given, overrides);
}

}  // namespace

TrainingRun::TrainingRun(TrainConfig config, EpochHook hook, std::ostream& out)
    : config_(std::move(config)), on_epoch_end_(std::move(hook)), out_(out) {}

Result<std::unique_ptr<TrainingRun>> TrainingRun::Open(TrainConfig config, bool resume,
                                                       const TrainOverrides& overrides, EpochHook on_epoch_end,
                                                       std::ostream& out) {
  const std::string dir = config.run.run_dir;
  // Fine-tuning's source, before anything is written: a bad source or a flag that contradicts it
  // leaves no run folder behind.
  ALEXNET_RETURN_IF_ERROR(RefuseFineTuningInCluster(config));
  std::optional<InitSource> source;
  if (!resume && !config.fine_tune.init_from.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(source, OpenInitSource(config.fine_tune.init_from, config.run.threads));
    ALEXNET_RETURN_IF_ERROR(AdoptSourceConvention(*source, overrides.given, &config));
  }
  // A replica's server first: a port in use or a bad cluster list is said before any work.
  ALEXNET_ASSIGN_OR_RETURN(std::unique_ptr<ReplicaRun> replica,
                           ReplicaRun::Start(config.cluster, config.run.threads, out));
  const bool chief = !replica || replica->chief();
  std::unique_ptr<RunFolderLock> lock;
  if (chief) {
    if (resume && !fs::is_directory(dir)) return Status::NotFound(dir, "cannot resume: no such run folder");
    ALEXNET_RETURN_IF_ERROR(MakeFolder(dir));
    // One writer per run folder, from before config.json is read until the process ends.
    ALEXNET_ASSIGN_OR_RETURN(lock, RunFolderLock::Acquire(dir));
  }
  // The other replicas write nothing there. Resuming, they read the run's config.json where the
  // folder is shared (same machine or file system), else they train with their command line's
  // settings, which must then be the run's; weights and position come from the chief.
  if (resume && (chief || fs::exists(dir + "/config.json"))) {
    // Said, not refused: docs/scaling.md resumes a cluster with its first commands plus --resume.
    if (const std::vector<std::string> fixed = overrides.Fixed(); !fixed.empty()) {
      std::string names;
      for (const std::string& n : fixed) names += (names.empty() ? "" : ", ") + n;
      out << "note: " << names << " not used: a resumed run keeps the data, model and recipe of " << dir
          << "/config.json (a new --run can change them)\n";
    }
    ALEXNET_ASSIGN_OR_RETURN(config, ResumedConfig(config, overrides));
    ALEXNET_RETURN_IF_ERROR(RefuseFineTuningInCluster(config));
    if (overrides.Given("--epochs")) config.recipe.schedule_over_budget = false;  // the schedule spans them now
    if (config.recipe.schedule_over_budget && config.cluster.enabled()) {
      return Status::BadInput("", "this run's schedule spans its time budget, which is for one process; resume it "
                                  "in one process, or give --epochs");
    }
    if (overrides.Given("--epochs") && PerStepSchedule(config.recipe.schedule)) {
      out << "note: the " << NameIn(kLrScheduleNames, config.recipe.schedule)
          << " schedule now spans the new --epochs: the learning rate continues on the curve of that length\n";
    }
  }
  std::unique_ptr<TrainingRun> run(new TrainingRun(std::move(config), std::move(on_epoch_end), out));
  run->lock_ = std::move(lock);
  run->chief_ = chief;
  run->replica_ = std::move(replica);
  ALEXNET_RETURN_IF_ERROR(run->OpenData());
  ALEXNET_RETURN_IF_ERROR(run->LoadStatistics());
  ALEXNET_RETURN_IF_ERROR(run->CreateSession());
  // A resumed run records what its command line changed, so that the next --resume keeps it.
  if (chief && (!resume || overrides.Any())) ALEXNET_RETURN_IF_ERROR(run->WriteRunFiles());
  ALEXNET_RETURN_IF_ERROR(run->OpenModel(resume, source ? &*source : nullptr));
  ALEXNET_RETURN_IF_ERROR(run->OpenLoader());
  return run;
}

// The training and validation splits; the model's head and input follow the data.
Status TrainingRun::OpenData() {
  ALEXNET_ASSIGN_OR_RETURN(train_set_, OpenDataset(config_.data, Split::kTrain));
  auto val = OpenDataset(config_.data, Split::kVal);
  if (val.ok() && val.value()->size() > 0) val_set_ = val.value();
  if (config_.data.val_fraction > 0 && !val_set_) {
    return val.ok() ? Status::BadInput("", "validation split: empty") : val.status().With("validation split");
  }
  config_.model.num_classes = static_cast<int>(train_set_->class_names().size());
  config_.model.input_size = config_.data.crop;
  total_steps_ = config_.recipe.epochs * data::Loader::BatchesPerEpoch(static_cast<int64_t>(train_set_->size()),
                                                                       TrainLoaderOptions(config_, nullptr));
  return Status::Ok();
}

// Mean and RGB principal components of the training set: computed once and kept in the run
// folder, so evaluation and prediction subtract the same mean. He initialisation (and
// --standardize) scale by the pixels' standard deviation (see layers.h).
Status TrainingRun::LoadStatistics() {
  const std::string path = config_.run.run_dir + "/color_stats.json";
  if (fs::exists(path)) {
    ALEXNET_ASSIGN_OR_RETURN(data::ColorStats loaded, data::LoadColorStats(path));
    stats_ = std::make_shared<data::ColorStats>(std::move(loaded));
  } else {
    data::ColorStatsOptions o;
    o.size = config_.data.resize;
    o.max_images = static_cast<size_t>(config_.data.stats_images);
    o.seed = static_cast<uint64_t>(config_.model.seed);
    o.threads = config_.run.workers;
    o.mean_image = config_.data.per_pixel_mean;
    const size_t n = o.max_images && o.max_images < train_set_->size() ? o.max_images : train_set_->size();
    out_ << "computing mean and RGB principal components over " << n << " training images..." << std::endl;
    ALEXNET_ASSIGN_OR_RETURN(data::ColorStats computed, data::ComputeColorStats(*train_set_, o));
    // Fine-tuning subtracts the source's mean (the weights were learnt with it, and it is in the
    // config already: the source's resize and mean mode); the principal components that the
    // PCA colour augmentation uses are the new data's own.
    if (!config_.fine_tune.init_from.empty()) {
      ALEXNET_ASSIGN_OR_RETURN(data::ColorStats source,
                               data::LoadColorStats(config_.fine_tune.init_from + "/color_stats.json"));
      computed = WithSourceMean(std::move(computed), source);
    }
    // The other replicas compute the same numbers (same images, same seed) and keep them.
    if (chief_) ALEXNET_RETURN_IF_ERROR(data::SaveColorStats(computed, path));
    stats_ = std::make_shared<data::ColorStats>(std::move(computed));
  }
  // A fine-tuned run keeps its source's input scale (in its config.json from the first session on).
  if (!config_.fine_tune.init_from.empty()) return Status::Ok();
  const auto& cov = stats_->covariance;  // of values / 255
  config_.model.input_stddev = static_cast<float>(255.0 * std::sqrt((cov[0][0] + cov[1][1] + cov[2][2]) / 3.0));
  if (!(config_.model.input_stddev > 0)) config_.model.input_stddev = 1.0f;
  return Status::Ok();
}

// config.json and classes.txt of a new run.
Status TrainingRun::WriteRunFiles() {
  const std::string& dir = config_.run.run_dir;
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(dir + "/config.json", ToJson(config_).dump(2) + "\n"));
  std::string names;
  for (const auto& n : train_set_->class_names()) names += n + "\n";
  return WriteFileAtomic(dir + "/classes.txt", names);
}

// The training session: a single process's, or a replica's. Its precision is the one really used
// (bf16 falls back to fp32 on a CPU without it), which config.json then records.
Status TrainingRun::CreateSession() {
  model::SessionConfig sc;
  sc.model = config_.model;
  sc.training = true;
  sc.weight_decay = config_.recipe.weight_decay;
  sc.momentum = config_.recipe.momentum;
  sc.label_smoothing = config_.recipe.label_smoothing;
  sc.threads = config_.run.threads;
  sc.train_layers = config_.fine_tune.train_layers;
  if (replica_) replica_->ConfigureSession(&sc);
  ALEXNET_ASSIGN_OR_RETURN(session_, model::ModelSession::Create(sc));
  config_.model.precision = session_->config().model.precision;
  return Status::Ok();
}

// The weights, initialised or restored from the newest checkpoint; a replica then takes the
// chief's (the others initialise only to have values to overwrite). A new fine-tuning run then
// takes the layers that match from its source.
Status TrainingRun::OpenModel(bool resume, const InitSource* source) {
  state_.learning_rate = config_.recipe.lr;
  if (chief_) checkpoints_ = std::make_unique<CheckpointManager>(config_.run.run_dir, config_.run.keep_checkpoints);
  if (resume && chief_) {
    ALEXNET_RETURN_IF_ERROR(RestoreCheckpoint());
  } else {
    ALEXNET_RETURN_IF_ERROR(session_->Initialize());
    if (source) ALEXNET_RETURN_IF_ERROR(CopyMatchingLayers(*source, session_.get(), out_));
  }
  return replica_ ? replica_->SyncFromChief(session_.get(), &state_) : Status::Ok();
}

// The newest checkpoint's weights and training state.
Status TrainingRun::RestoreCheckpoint() {
  Result<CheckpointInfo> latest = checkpoints_->RestoreNewest(session_.get(), /*best_first=*/false);
  if (!latest.ok()) return latest.status().With("cannot resume");
  state_ = latest->state;
  // The run will write these steps again: keep the damaged folders aside rather than overwrite them.
  for (const std::string& damaged : latest->damaged) {
    std::error_code ec;
    fs::rename(damaged, damaged + ".damaged", ec);
    out_ << (ec ? "could not move " + damaged + " aside: " + ec.message() : "kept as " + damaged + ".damaged") << "\n";
  }
  out_ << "resumed from " << latest->prefix << " at step " << state_.step << " (epoch " << state_.epoch << ", batch "
       << state_.batch_in_epoch << ", lr " << LearningRate() << ")\n";
  return Status::Ok();
}

// The augmented, shuffled batches from the run's data position on; metrics.csv; TensorBoard.
Status TrainingRun::OpenLoader() {
  data::LoaderOptions lo = TrainLoaderOptions(config_, stats_);
  lo.start_epoch = state_.epoch;
  lo.start_batch = state_.batch_in_epoch;
  ALEXNET_ASSIGN_OR_RETURN(loader_, data::Loader::Create(train_set_, lo));
  if (!chief_) return Status::Ok();
  metrics_path_ = config_.run.run_dir + "/metrics.csv";
  if (!fs::exists(metrics_path_)) ALEXNET_RETURN_IF_ERROR(AppendLine(metrics_path_, MetricsCsvHeader()));
  events_ = std::make_unique<EventLog>(config_.run.run_dir);
  return Status::Ok();
}

void TrainingRun::PrintHeader() const {
  const auto& m = config_.model;
  out_ << "training AlexNet on " << train_set_->description() << "\n  " << train_set_->size() << " training images"
       << (val_set_ ? ", " + std::to_string(val_set_->size()) + " validation images" : "") << ", "
       << m.num_classes << " classes, input " << config_.data.crop << " x " << config_.data.crop << ", batch "
       << config_.recipe.batch << ", " << loader_->batches_per_epoch() << " steps per epoch\n  recipe: "
       << RecipeText(config_.recipe, ScheduleSteps()) << "\n  model: init " << model::InitName(m.init) << ", "
       << model::ActivationLabel(m.activation) << ", max pooling " << model::PoolText(m) << ", dropout "
       << m.dropout_rate << ", LRN " << (m.lrn ? "on" : "off") << ", standardised input "
       << (m.standardize_input ? "on" : "off") << ", " << model::PrecisionName(session_->config().model.precision)
       << " on " << model::TensorFlowKernels() << " kernels, " << FormatCount(session_->network().ParameterCount())
       << " parameters\n";
  const FineTune& ft = config_.fine_tune;
  if (!ft.init_from.empty()) {
    out_ << "  fine-tuning " << ft.init_from << " (" << ft.init_checkpoint << ", step " << ft.init_step << ")\n";
  }
  if (!ft.train_layers.empty()) {
    std::vector<std::string> frozen;
    for (const std::string& layer : model::ParameterLayers()) {
      if (!model::IsTrained(layer, ft.train_layers)) frozen.push_back(layer);
    }
    out_ << "  training " << JoinNames(ft.train_layers) << "; frozen " << (frozen.empty() ? "none" : JoinNames(frozen))
         << "\n";
  }
  out_ << "  run folder: " << config_.run.run_dir << std::endl;
  if (replica_) replica_->PrintHeader(config_.recipe.batch);
}

double TrainingRun::Seconds() const {
  return seconds_before_ + std::chrono::duration<double>(Clock::now() - start_).count();
}

float TrainingRun::LearningRate() const { return NextLearningRate(config_.recipe, state_, ScheduleSteps()); }

int64_t TrainingRun::ScheduleSteps() const {
  return config_.recipe.schedule_over_budget ? state_.schedule_steps : total_steps_;
}

bool TrainingRun::ScheduleEnded() const {
  return config_.recipe.schedule_over_budget && state_.schedule_steps > 0 && state_.step >= state_.schedule_steps;
}

void TrainingRun::TimeSchedule() {
  if (!config_.recipe.schedule_over_budget) return;
  if (state_.schedule_steps > 0) {
    RetimeSchedule();
    return;
  }
  if (timed_from_step_ < 0) {  // after the first step of this process, which also set the graph up
    timed_from_step_ = state_.step;
    timed_from_ = Clock::now();
    return;
  }
  const int64_t timed = state_.step - timed_from_step_;
  if (timed < kScheduleTimingSteps) return;
  const double per_step = std::chrono::duration<double>(Clock::now() - timed_from_).count() / double(timed);
  state_.schedule_steps = StepsInBudget(state_.step, Seconds(), config_.recipe.time_budget_s, per_step);
  out_ << (tty_ ? "\n" : "") << "schedule: " << NameIn(kLrScheduleNames, config_.recipe.schedule) << " over "
       << state_.schedule_steps << " steps (" << FormatFixed(per_step, 2) << " s per step over steps "
       << timed_from_step_ + 1 << "-" << state_.step << ", " << FormatDuration(config_.recipe.time_budget_s - Seconds())
       << " of the time budget left): " << RecipeText(config_.recipe, state_.schedule_steps) << "\n";
  fixed_at_step_ = state_.step;
  fixed_at_seconds_ = Seconds();
}

void TrainingRun::RetimeSchedule() {
  if (fixed_at_step_ < 0 || retimed_) return;  // fixed by an earlier process, or done
  const double budget = config_.recipe.time_budget_s, now = Seconds();
  const Retime due = RetimeDue(fixed_at_step_, fixed_at_seconds_, state_.step, now, state_.schedule_steps, budget);
  if (due == Retime::kNotYet) return;
  retimed_ = true;
  if (due == Retime::kTooLate) return;
  const double per_step = (now - fixed_at_seconds_) / double(state_.step - fixed_at_step_);
  const int64_t steps = StepsInBudget(state_.step, now, budget, per_step);
  if (steps == state_.schedule_steps) return;
  out_ << (tty_ ? "\n" : "") << "schedule: " << steps << " steps instead of " << state_.schedule_steps << " ("
       << FormatFixed(per_step, 2) << " s per step over steps " << fixed_at_step_ + 1 << "-" << state_.step << ", "
       << FormatDuration(budget - now) << " left)\n";
  state_.schedule_steps = steps;
}

Status TrainingRun::Run() {
  PrintHeader();
  if (state_.epoch >= config_.recipe.epochs) {
    out_ << "this run has already trained its " << config_.recipe.epochs << " epochs; to train it further:\n"
         << "  alexnet train --run " << config_.run.run_dir << " --resume --epochs <more than "
         << config_.recipe.epochs << ">\n";
  }
  if (ScheduleEnded()) {
    out_ << "this run has already trained the " << state_.schedule_steps << " steps of its schedule; to train it "
         << "further:\n  alexnet train --run " << config_.run.run_dir << " --resume --epochs <more than "
         << state_.epoch << ">\n";
  }
  InstallSignalHandlers();
  tty_ = &out_ == &std::cout && ::isatty(STDOUT_FILENO);
  start_ = last_log_ = window_start_ = Clock::now();
  seconds_before_ = state_.train_seconds;
  last_lr_ = LearningRate();
  data::Batch batch;
  Stop stop = Stop::kDone;
  while (true) {
    model::StopVotes votes;
    votes.signal = g_signal.load() != 0;
    votes.time_budget = config_.recipe.time_budget_s > 0 && Seconds() >= config_.recipe.time_budget_s;
    // A single process stops at once; replicas vote in the next step, so all stop after it. A
    // schedule whose last step is done says so, also when the budget ran out with that step.
    if (!replica_ && votes.signal) {
      stop = Stop::kSignal;
      break;
    }
    if (ScheduleEnded()) {  // one process only (train_command.cpp)
      stop = Stop::kScheduleEnd;
      break;
    }
    if (!replica_ && votes.time_budget) {
      stop = Stop::kTimeBudget;
      break;
    }
    if (!loader_->Next(batch)) {
      ALEXNET_RETURN_IF_ERROR(loader_->status());
      break;
    }
    model::StepResult r;
    ALEXNET_RETURN_IF_ERROR(Step(batch, votes, &r));
    TimeSchedule();
    if (batch.last_in_epoch) {
      ALEXNET_RETURN_IF_ERROR(EndEpoch(batch.epoch + 1, false));
    } else if (config_.run.checkpoint_every > 0 && state_.step % config_.run.checkpoint_every == 0) {
      ALEXNET_RETURN_IF_ERROR(Save("periodic"));
    }
    if (r.signal_votes > 0 || r.time_budget_votes > 0) {
      stop = r.signal_votes > 0 ? Stop::kSignal : Stop::kTimeBudget;
      break;
    }
  }
  if (tty_) out_ << "\n";
  return Finish(stop);
}

// One SGD step on one batch, then the running totals and the progress line.
Status TrainingRun::Step(const data::Batch& batch, const model::StopVotes& votes, model::StepResult* result) {
  model::StepResult& r = *result;
  const float lr = LearningRate();
  const Clock::time_point step_start = Clock::now();
  const Status st = replica_ ? replica_->Step(session_.get(), batch, lr, votes, &r)
                             : session_->TrainStep(ImagesTensor(batch), LabelsTensor(batch), lr, &r);
  const double step_seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
  if (!st.ok()) return st.With("training step " + std::to_string(state_.step + 1));
  if (!std::isfinite(r.loss)) return NonFiniteLoss(r.loss);
  last_lr_ = lr;
  state_.step += 1;
  state_.images_seen += r.batch;  // of all replicas
  state_.last_loss = r.loss;
  state_.epoch = batch.last_in_epoch ? batch.epoch + 1 : batch.epoch;
  state_.batch_in_epoch = batch.last_in_epoch ? 0 : batch.index + 1;
  epoch_images_ += r.batch;
  epoch_correct_ += r.correct_top1;
  epoch_loss_ += double(r.cross_entropy) * r.batch;
  window_images_ += r.batch;
  const double window_s = std::chrono::duration<double>(Clock::now() - window_start_).count();
  if (window_s >= 2.0) {
    images_per_s_ = window_images_ / window_s;
    window_images_ = 0;
    window_start_ = Clock::now();
  } else if (images_per_s_ == 0 && window_s > 0) {
    images_per_s_ = window_images_ / window_s;
  }
  PrintProgress(batch, r);
  if (on_step_) {
    on_step_(StepEnd{state_.step, batch.epoch, r.batch, r.correct_top1, r.cross_entropy, step_seconds, Seconds()});
  }
  return Status::Ok();
}

// A NaN or infinite loss stops the run without saving: the last checkpoint stays the good one.
Status TrainingRun::NonFiniteLoss(float loss) const {
  const Result<CheckpointInfo> last =
      checkpoints_ ? checkpoints_->Latest() : Result<CheckpointInfo>(Status::Internal("not the chief"));
  return Status::NonFiniteLoss(std::string("the loss became ") + (std::isnan(loss) ? "NaN" : "infinite") +
                               " at step " + std::to_string(state_.step + 1) + " (learning rate " +
                               std::to_string(LearningRate()) + "); stopping without saving. " +
                               (last.ok() ? "The last good checkpoint is " + last->prefix + " (step " +
                                                std::to_string(last->state.step) + ")"
                                     : std::string("No checkpoint was written yet")) +
                               ". Try a smaller --lr.");
}

// Progress: redrawn in place on a terminal, one line per --log-every seconds otherwise.
void TrainingRun::PrintProgress(const data::Batch& batch, const model::StepResult& r) {
  const auto now = Clock::now();
  if (!tty_ && std::chrono::duration<double>(now - last_log_).count() < config_.run.log_every_s &&
      state_.step != 1) {
    return;
  }
  const int64_t steps_per_epoch = loader_->batches_per_epoch();
  const double elapsed = Seconds();
  double eta = (steps_per_epoch - state_.batch_in_epoch) * config_.recipe.batch / std::max(images_per_s_, 1e-9);
  const char* eta_what = "epoch";
  if (config_.recipe.time_budget_s > 0 && config_.recipe.time_budget_s - elapsed < eta) {
    eta = config_.recipe.time_budget_s - elapsed;
    eta_what = "budget";
  }
  char line[320];
  std::snprintf(line, sizeof line,
                "step %lld  epoch %.2f  loss %.4f  (+ weight decay %.3f)  top-1 %.3f  lr %.6g  %.1f images/s  "
                "ETA %s %s",
                static_cast<long long>(state_.step), double(batch.epoch) + double(batch.index + 1) / steps_per_epoch,
                r.cross_entropy, r.loss - r.cross_entropy,
                epoch_images_ ? double(epoch_correct_) / epoch_images_ : 0.0, double(last_lr_), images_per_s_,
                eta_what, FormatDuration(eta).c_str());
  if (tty_) {
    out_ << "\r" << line << "\033[K" << std::flush;
  } else {
    out_ << line << std::endl;
  }
  last_log_ = now;
  if (!events_) return;
  events_->Scalar("train/loss", state_.step, r.loss);
  events_->Scalar("train/cross_entropy", state_.step, r.cross_entropy);
  events_->Scalar("train/top1", state_.step, double(r.correct_top1) / std::max(r.batch, 1));
  events_->Scalar("train/learning_rate", state_.step, last_lr_);
  events_->Scalar("train/images_per_s", state_.step, images_per_s_);
}

Result<std::optional<ValMetrics>> TrainingRun::Validate() {
  if (!val_set_) return std::optional<ValMetrics>();
  data::LoaderOptions lo = EvalLoaderOptions(config_, stats_, false, config_.recipe.batch);
  if (replica_) replica_->TakeShare(&lo);  // each replica its share of every batch; the counts are summed below
  ALEXNET_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(val_set_, lo));
  Result<EvalResult> evaluated = Evaluate(session_.get(), loader.get(), config_.model.num_classes,
                                          chief_ ? EvalProgress::kTerminalOnly : EvalProgress::kNone);
  if (!evaluated.ok()) return evaluated.status().With("validation");
  EvalResult& val = evaluated.value();
  if (replica_) ALEXNET_RETURN_IF_ERROR(replica_->SumCounts(session_.get(), &val));
  return std::optional<ValMetrics>(ValMetrics{val.mean_loss(), val.top1_accuracy(), val.top5_accuracy()});
}

// The end of an epoch (or of the time budget): validate, record, schedule, checkpoint.
Status TrainingRun::EndEpoch(int64_t finished_epoch, bool partial) {
  ALEXNET_ASSIGN_OR_RETURN(const std::optional<ValMetrics> val, Validate());
  EpochRecord rec;
  rec.epoch = finished_epoch;
  rec.partial = partial;
  rec.step = state_.step;
  rec.train_loss = epoch_images_ ? epoch_loss_ / epoch_images_ : 0;
  rec.train_top1 = epoch_images_ ? double(epoch_correct_) / epoch_images_ : 0;
  rec.val = val;
  rec.learning_rate = last_lr_;
  rec.images_per_s = images_per_s_;
  rec.train_seconds = Seconds();
  out_ << (tty_ ? "\r\033[K" : "") << EpochLine(rec) << std::endl;
  if (chief_) {
    ALEXNET_RETURN_IF_ERROR(AppendLine(metrics_path_, MetricsCsvRow(rec)));
    events_->Scalar("epoch/train_loss", state_.step, rec.train_loss);
    events_->Scalar("epoch/train_top1", state_.step, rec.train_top1);
    if (val) {
      events_->Scalar("epoch/val_loss", state_.step, val->loss);
      events_->Scalar("epoch/val_top1", state_.step, val->top1);
      events_->Scalar("epoch/val_top5", state_.step, val->top5);
    }
    ALEXNET_RETURN_IF_ERROR(events_->Flush());
  }
  epoch_images_ = epoch_correct_ = 0;
  epoch_loss_ = 0;

  const std::optional<double> val_top1 = val ? std::optional<double>(val->top1) : std::nullopt;
  const ScheduleDecision d = AfterEpoch(config_.recipe, state_, finished_epoch, partial, val_top1);
  state_ = d.state;
  if (d.lr_dropped && config_.recipe.schedule == LrSchedule::kPlateau) {
    out_ << "validation top-1 stopped improving: learning rate divided by 10 -> " << state_.learning_rate << "\n";
  }
  ALEXNET_RETURN_IF_ERROR(Save("epoch end"));
  if (!chief_) return Status::Ok();
  if (d.best) ALEXNET_RETURN_IF_ERROR(checkpoints_->MarkBest(state_.step));
  if (on_epoch_end_) on_epoch_end_(EpochEnd{&config_, finished_epoch, state_.step, session_.get(), events_.get()});
  return Status::Ok();
}

Status TrainingRun::Save(const char* why) {
  state_.train_seconds = Seconds();
  if (!chief_) return Status::Ok();  // the chief's checkpoint holds the replicas' common weights
  return checkpoints_->Save(session_.get(), state_).With("checkpoint (" + std::string(why) + ") not saved");
}

Status TrainingRun::Finish(Stop stop) {
  if (replica_) replica_->PrintChecksum(session_.get(), state_.step);
  if (stop == Stop::kSignal) {
    ALEXNET_RETURN_IF_ERROR(Save("interrupted"));
    const int sig = g_signal.load();
    out_ << "stopped by " << (sig == 0 ? "another worker's signal" : sig == SIGINT ? "SIGINT" : "SIGTERM")
         << " at step " << state_.step << (chief_ ? "; checkpoint saved" : "")
         << ". Resume with:\n  alexnet train --run " << config_.run.run_dir << " --resume\n";
    return Status::Ok();
  }
  if (stop == Stop::kTimeBudget || stop == Stop::kScheduleEnd) {
    if (stop == Stop::kTimeBudget) {
      out_ << "time budget of " << FormatDuration(config_.recipe.time_budget_s) << " reached at step " << state_.step
           << (state_.schedule_steps > state_.step ? " of the schedule's " + std::to_string(state_.schedule_steps) : "")
           << "\n";
    } else {
      out_ << "the schedule's last step, " << state_.step << ", done after " << FormatDuration(Seconds())
           << " of the time budget of " << FormatDuration(config_.recipe.time_budget_s) << "\n";
    }
    if (epoch_images_ > 0 || state_.best_val_top1 < 0) {
      ALEXNET_RETURN_IF_ERROR(EndEpoch(state_.epoch + 1, true));
    } else {
      ALEXNET_RETURN_IF_ERROR(Save("time budget"));
    }
  }
  out_ << "training finished: " << state_.step << " steps, " << state_.images_seen << " images, "
       << FormatDuration(state_.train_seconds) << " (training and validation); best validation top-1 "
       << FormatFixed(state_.best_val_top1, 4) << "\nrun folder: " << config_.run.run_dir << "\n";
  if (train_set_->skip_log().count() > 0) {
    out_ << "skipped " << train_set_->skip_log().count() << " unreadable training files\n";
  }
  if (train_set_->skip_log().warning_count() > 0) {
    out_ << "used " << train_set_->skip_log().warning_count()
         << " damaged training files anyway (--strict-decode skips them)\n";
  }
  return Status::Ok();
}

Status Train(TrainConfig config, bool resume, const TrainOverrides& overrides, const EpochHook& on_epoch_end,
             std::ostream& out) {
  ALEXNET_ASSIGN_OR_RETURN(auto run, TrainingRun::Open(std::move(config), resume, overrides, on_epoch_end, out));
  return run->Run();
}

}  // namespace alexnet::train
