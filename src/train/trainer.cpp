#include "train/trainer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "data/color_stats.h"
#include "model/session.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/events.h"
#include "train/files.h"

namespace alexnet::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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

int Fail(const std::string& msg) {
  std::cerr << "alexnet train: " << msg << "\n";
  return 1;
}

std::string FormatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  }
  return buf;
}

// Statistics for mean subtraction and PCA colour augmentation: computed once from the training
// split and stored in the run folder, so evaluation and prediction subtract the same mean.
data::Result<std::shared_ptr<const data::ColorStats>> RunColorStats(const TrainConfig& c,
                                                                     const data::Dataset& train_set) {
  const std::string path = c.run.run_dir + "/color_stats.json";
  if (fs::exists(path)) {
    auto loaded = data::load_color_stats(path);
    if (!loaded.ok()) return loaded.status();
    return std::shared_ptr<const data::ColorStats>(std::make_shared<data::ColorStats>(loaded.value()));
  }
  data::ColorStatsOptions o;
  o.size = c.data.resize;
  o.max_images = static_cast<size_t>(c.data.stats_images);
  o.seed = static_cast<uint64_t>(c.model.seed);
  o.threads = c.run.workers;
  o.mean_image = c.data.per_pixel_mean;
  std::cout << "computing mean and RGB principal components over "
            << (o.max_images && o.max_images < train_set.size() ? o.max_images : train_set.size())
            << " training images..." << std::endl;
  auto stats = data::compute_color_stats(train_set, o);
  if (!stats.ok()) return stats.status();
  if (data::Status st = data::save_color_stats(stats.value(), path); !st.ok()) return st;
  return std::shared_ptr<const data::ColorStats>(std::make_shared<data::ColorStats>(stats.value()));
}

}  // namespace

int Train(TrainConfig config, bool resume, const TrainOverrides& overrides, const EpochHook& on_epoch_end) {
  const std::string run_dir = config.run.run_dir;
  if (resume) {
    Result<TrainConfig> loaded = LoadTrainConfig(run_dir);
    if (!loaded.ok()) return Fail("cannot resume: " + loaded.status().message());
    TrainConfig saved = std::move(loaded).value();
    if (overrides.epochs) saved.recipe.epochs = config.recipe.epochs;
    if (overrides.time_budget) saved.recipe.time_budget_s = config.recipe.time_budget_s;
    saved.run.workers = config.run.workers;
    saved.run.threads = config.run.threads;
    config = saved;
  }
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) return Fail(run_dir + ": cannot create the run folder: " + ec.message());

  // Data.
  auto train_set = OpenDataset(config.data, Split::kTrain);
  if (!train_set.ok()) return Fail(train_set.status().message());
  auto val_set = OpenDataset(config.data, Split::kVal);
  const bool has_val = val_set.ok() && val_set.value()->size() > 0;
  if (config.data.val_fraction > 0 && !has_val) {
    return Fail("validation split: " + (val_set.ok() ? std::string("empty") : val_set.status().message()));
  }
  const auto& classes = train_set.value()->class_names();
  config.model.num_classes = static_cast<int>(classes.size());
  config.model.input_size = config.data.crop;

  auto stats = RunColorStats(config, *train_set.value());
  if (!stats.ok()) return Fail(stats.status().message());

  // Model. He initialisation scales conv1 by the pixels' standard deviation (see layers.h).
  {
    const auto& cov = stats.value()->covariance;  // of values / 255
    config.model.input_stddev = static_cast<float>(255.0 * std::sqrt((cov[0][0] + cov[1][1] + cov[2][2]) / 3.0));
    if (!(config.model.input_stddev > 0)) config.model.input_stddev = 1.0f;
  }
  if (!resume) {
    if (Status st = WriteFileAtomic(run_dir + "/config.json", ToJson(config).dump(2) + "\n"); !st.ok()) {
      return Fail(st.message());
    }
    std::string names;
    for (const auto& n : classes) names += n + "\n";
    if (Status st = WriteFileAtomic(run_dir + "/classes.txt", names); !st.ok()) return Fail(st.message());
  }
  model::SessionConfig sc;
  sc.model = config.model;
  sc.training = true;
  sc.weight_decay = config.recipe.weight_decay;
  sc.momentum = config.recipe.momentum;
  sc.threads = config.run.threads;
  std::unique_ptr<model::ModelSession> session;
  if (auto st = model::ModelSession::Create(sc, &session); !st.ok()) return Fail(std::string(st.message()));

  CheckpointManager ckpt(run_dir, config.run.keep_checkpoints);
  TrainState state;
  state.learning_rate = config.recipe.lr;
  if (resume) {
    Result<CheckpointInfo> latest = ckpt.Latest();
    if (!latest.ok()) return Fail("cannot resume: " + latest.status().message());
    const std::string prefix = latest->prefix;
    state = latest->state;
    if (auto st = session->Restore(prefix); !st.ok()) return Fail(prefix + ": " + std::string(st.message()));
    std::cout << "resumed from " << prefix << " at step " << state.step << " (epoch " << state.epoch
              << ", batch " << state.batch_in_epoch << ", lr " << state.learning_rate << ")\n";
  } else if (auto st = session->Initialize(); !st.ok()) {
    return Fail(std::string(st.message()));
  }

  data::LoaderOptions lo = TrainLoaderOptions(config, stats.value());
  lo.start_epoch = state.epoch;
  lo.start_batch = state.batch_in_epoch;
  auto loader = data::Loader::create(train_set.value(), lo);
  if (!loader.ok()) return Fail(loader.status().message());

  const std::string metrics_path = run_dir + "/metrics.csv";
  if (!fs::exists(metrics_path)) {
    if (Status st = AppendLine(metrics_path,
                               "epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,lr,"
                               "images_per_s,train_seconds");
        !st.ok()) {
      return Fail(st.message());
    }
  }
  EventLog events(run_dir);

  std::cout << "training AlexNet on " << train_set.value()->description() << "\n"
            << "  " << train_set.value()->size() << " training images"
            << (has_val ? ", " + std::to_string(val_set.value()->size()) + " validation images" : "")
            << ", " << classes.size() << " classes, input " << config.data.crop << " x " << config.data.crop
            << ", batch " << config.recipe.batch << ", lr " << state.learning_rate << ", "
            << loader.value()->batches_per_epoch() << " steps per epoch\n"
            << "  run folder: " << run_dir << std::endl;

  InstallSignalHandlers();
  const bool tty = ::isatty(STDOUT_FILENO);
  const auto start = Clock::now();
  const double seconds_before = state.train_seconds;
  auto last_log = start;
  int64_t epoch_images = 0, epoch_correct = 0;
  double epoch_loss = 0;
  int64_t window_images = 0;
  auto window_start = start;
  double images_per_s = 0;
  const int64_t steps_per_epoch = loader.value()->batches_per_epoch();

  auto save = [&](const char* why) -> bool {
    state.train_seconds = seconds_before + std::chrono::duration<double>(Clock::now() - start).count();
    if (Status st = ckpt.Save(session.get(), state); !st.ok()) {
      std::cerr << "\nalexnet train: checkpoint (" << why << ") not saved: " << st.message() << "\n";
      return false;
    }
    return true;
  };

  // Validation at the end of an epoch (or of the time budget), then bookkeeping.
  auto end_epoch = [&](int64_t finished_epoch, bool partial) -> bool {
    EvalResult val;
    if (has_val) {
      auto vl =
          data::Loader::create(val_set.value(), EvalLoaderOptions(config, stats.value(), false, config.recipe.batch));
      if (!vl.ok()) {
        std::cerr << "alexnet train: " << vl.status().message() << "\n";
        return false;
      }
      if (std::string err = Evaluate(session.get(), vl.value().get(), config.model.num_classes, &val, true);
          !err.empty()) {
        std::cerr << "alexnet train: validation: " << err << "\n";
        return false;
      }
    }
    state.train_seconds = seconds_before + std::chrono::duration<double>(Clock::now() - start).count();
    const double train_top1 = epoch_images ? double(epoch_correct) / epoch_images : 0;
    const double train_loss = epoch_images ? epoch_loss / epoch_images : 0;
    std::ostringstream line;
    line << "epoch " << finished_epoch + 1 << (partial ? " (partial)" : "") << "  step " << state.step
         << "  train loss " << train_loss << "  train top-1 " << train_top1;
    if (has_val) {
      line << "  val loss " << val.mean_loss() << "  val top-1 " << val.top1_accuracy() << "  val top-5 "
           << val.top5_accuracy();
    }
    line << "  lr " << state.learning_rate;
    std::cout << (tty ? "\r\033[K" : "") << line.str() << std::endl;
    std::ostringstream csv;
    csv << finished_epoch + 1 << ',' << state.step << ',' << train_loss << ',' << train_top1 << ','
        << (has_val ? std::to_string(val.mean_loss()) : "") << ','
        << (has_val ? std::to_string(val.top1_accuracy()) : "") << ','
        << (has_val ? std::to_string(val.top5_accuracy()) : "") << ',' << state.learning_rate << ','
        << images_per_s << ',' << state.train_seconds;
    if (Status st = AppendLine(metrics_path, csv.str()); !st.ok()) {
      std::cerr << "alexnet train: " << st.message() << "\n";
      return false;
    }
    events.Scalar("epoch/train_loss", state.step, train_loss);
    events.Scalar("epoch/train_top1", state.step, train_top1);
    if (has_val) {
      events.Scalar("epoch/val_loss", state.step, val.mean_loss());
      events.Scalar("epoch/val_top1", state.step, val.top1_accuracy());
      events.Scalar("epoch/val_top5", state.step, val.top5_accuracy());
    }
    events.Flush();
    epoch_images = epoch_correct = 0;
    epoch_loss = 0;

    bool best = false;
    if (has_val && val.top1_accuracy() > state.best_val_top1) {
      state.best_val_top1 = val.top1_accuracy();
      state.epochs_without_improvement = 0;
      best = true;
    } else if (!partial) {
      state.epochs_without_improvement += 1;
    }
    // Learning-rate schedule: the paper divided by 10 when validation error stopped improving.
    if (!partial) {
      if (config.recipe.schedule == "step") {
        if ((finished_epoch + 1) % config.recipe.step_epochs == 0) {
          state.learning_rate /= 10;
          state.lr_drops += 1;
        }
      } else if (has_val && state.epochs_without_improvement >= config.recipe.patience &&
                 state.lr_drops < config.recipe.max_lr_drops) {
        state.learning_rate /= 10;
        state.lr_drops += 1;
        state.epochs_without_improvement = 0;
        std::cout << "validation top-1 stopped improving: learning rate divided by 10 -> "
                  << state.learning_rate << "\n";
      }
    }
    if (!save("epoch end")) return false;
    if (best) {
      if (Status st = ckpt.MarkBest(state.step); !st.ok()) {
        std::cerr << "alexnet train: " << st.message() << "\n";
        return false;
      }
    }
    if (on_epoch_end) on_epoch_end(EpochEnd{&config, finished_epoch + 1, state.step, session.get(), &events});
    return true;
  };

  data::Batch batch;
  std::string stop_reason;
  while (true) {
    if (g_signal.load()) {
      stop_reason = "signal";
      break;
    }
    const double session_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (config.recipe.time_budget_s > 0 && seconds_before + session_seconds >= config.recipe.time_budget_s) {
      stop_reason = "time budget";
      break;
    }
    if (!loader.value()->next(batch)) {
      if (!loader.value()->status().ok()) return Fail(loader.value()->status().message());
      stop_reason = "done";
      break;
    }
    model::StepResult r;
    const tensorflow::Tensor labels = LabelsTensor(batch);
    if (auto st = session->TrainStep(ImagesTensor(batch), labels, state.learning_rate, &r); !st.ok()) {
      return Fail("training step " + std::to_string(state.step + 1) + ": " + std::string(st.message()));
    }
    if (!std::isfinite(r.loss)) {
      const Result<CheckpointInfo> last = ckpt.Latest();
      const bool have = last.ok();
      return Fail("the loss became " + std::string(std::isnan(r.loss) ? "NaN" : "infinite") + " at step " +
                  std::to_string(state.step + 1) + " (learning rate " + std::to_string(state.learning_rate) +
                  "); stopping without saving. " +
                  (have ? "The last good checkpoint is " + last->prefix + " (step " +
                              std::to_string(last->state.step) + ")"
                        : std::string("No checkpoint was written yet")) +
                  ". Try a smaller --lr.");
    }
    state.step += 1;
    state.images_seen += batch.size;
    state.last_loss = r.loss;
    state.epoch = batch.last_in_epoch ? batch.epoch + 1 : batch.epoch;
    state.batch_in_epoch = batch.last_in_epoch ? 0 : batch.index + 1;
    epoch_images += r.batch;
    epoch_correct += r.correct_top1;
    epoch_loss += double(r.cross_entropy) * r.batch;
    window_images += batch.size;
    const auto now = Clock::now();
    const double window_s = std::chrono::duration<double>(now - window_start).count();
    if (window_s >= 2.0) {
      images_per_s = window_images / window_s;
      window_images = 0;
      window_start = now;
    } else if (images_per_s == 0 && window_s > 0) {
      images_per_s = window_images / window_s;
    }

    // Progress: redrawn in place on a terminal, one line per interval otherwise.
    const double since_log = std::chrono::duration<double>(now - last_log).count();
    if (tty || since_log >= config.run.log_every_s || state.step == 1) {
      const double elapsed = seconds_before + std::chrono::duration<double>(now - start).count();
      const int64_t steps_left_epoch = steps_per_epoch - state.batch_in_epoch;
      double eta = steps_left_epoch * config.recipe.batch / std::max(images_per_s, 1e-9);
      std::string eta_what = "epoch";
      if (config.recipe.time_budget_s > 0 && config.recipe.time_budget_s - elapsed < eta) {
        eta = config.recipe.time_budget_s - elapsed;
        eta_what = "budget";
      }
      char line[320];
      std::snprintf(line, sizeof line,
                    "step %lld  epoch %.2f  loss %.4f  (+ weight decay %.3f)  top-1 %.3f  %.1f images/s  ETA %s %s",
                    static_cast<long long>(state.step),
                    double(batch.epoch) + double(batch.index + 1) / steps_per_epoch, r.cross_entropy,
                    r.loss - r.cross_entropy,
                    epoch_images ? double(epoch_correct) / epoch_images : 0.0, images_per_s,
                    eta_what.c_str(), FormatDuration(eta).c_str());
      if (tty) {
        std::cout << "\r" << line << "\033[K" << std::flush;
      } else {
        std::cout << line << std::endl;
      }
      last_log = now;
      events.Scalar("train/loss", state.step, r.loss);
      events.Scalar("train/cross_entropy", state.step, r.cross_entropy);
      events.Scalar("train/top1", state.step, double(r.correct_top1) / std::max(r.batch, 1));
      events.Scalar("train/learning_rate", state.step, state.learning_rate);
      events.Scalar("train/images_per_s", state.step, images_per_s);
    }

    if (batch.last_in_epoch) {
      if (!end_epoch(batch.epoch, false)) return 1;
    } else if (config.run.checkpoint_every > 0 && state.step % config.run.checkpoint_every == 0) {
      if (!save("periodic")) return 1;
    }
  }
  if (tty) std::cout << "\n";

  if (stop_reason == "signal") {
    const int sig = g_signal.load();
    if (!save("interrupted")) return 1;
    std::cout << "stopped by " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << " at step " << state.step
              << "; checkpoint saved. Resume with:\n  alexnet train --run " << run_dir << " --resume\n";
    return 0;
  }
  if (stop_reason == "time budget") {
    std::cout << "time budget of " << FormatDuration(config.recipe.time_budget_s) << " reached at step "
              << state.step << "\n";
    if (epoch_images > 0 || state.best_val_top1 < 0) {
      if (!end_epoch(state.epoch, true)) return 1;
    } else if (!save("time budget")) {
      return 1;
    }
  }
  std::cout << "training finished: " << state.step << " steps, " << state.images_seen << " images, "
            << FormatDuration(state.train_seconds) << " (training and validation); best validation top-1 "
            << state.best_val_top1 << "\n"
            << "run folder: " << run_dir << "\n";
  if (train_set.value()->skip_log().count() > 0) {
    std::cout << "skipped " << train_set.value()->skip_log().count() << " unreadable training files\n";
  }
  return 0;
}

}  // namespace alexnet::train
