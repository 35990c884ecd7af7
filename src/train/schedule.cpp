#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/csv.h"
#include "util/format.h"

namespace alexnet::train {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kUnknownLength = int64_t(1) << 40;  // steps: "a very long run"

// From `start` at pct 0 to `end` at pct 1 along half a cosine (PyTorch's _annealing_cos).
double AnnealCos(double start, double end, double pct) { return end + (start - end) / 2 * (std::cos(kPi * pct) + 1); }

// 0 below, 1 above.
double Clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

double Cosine(double peak, int64_t warmup, int64_t step, int64_t total_steps) {
  if (step < warmup) return peak * WarmupFactor(warmup, step);
  const double decay_steps = static_cast<double>(std::max<int64_t>(total_steps - warmup, 1));
  return AnnealCos(peak, 0.0, Clamp01(static_cast<double>(step - warmup) / decay_steps));
}

// The rising phase ends (at the peak) at step `rise_end`, a fraction of a step in PyTorch when 30 %
// of the steps is not a whole number; the falling phase ends at the last step. A phase without a
// step's length (1-step warm-up, a run shorter than the warm-up) takes its start value.
double OneCycle(double peak, int64_t warmup, int64_t step, int64_t total_steps) {
  const double initial = peak / kOneCycleDivFactor;
  const double final_lr = initial / kOneCycleFinalDivFactor;
  const double rise_end =
      warmup > 0 ? static_cast<double>(warmup) - 1 : kOneCyclePctStart * static_cast<double>(total_steps) - 1;
  const double fall_end = static_cast<double>(total_steps) - 1;
  const double s = static_cast<double>(step);
  if (s <= rise_end) return AnnealCos(initial, peak, rise_end > 0 ? s / rise_end : 0.0);
  return AnnealCos(peak, final_lr, fall_end > rise_end ? Clamp01((s - rise_end) / (fall_end - rise_end)) : 0.0);
}

}  // namespace

bool PerStepSchedule(LrSchedule schedule) {
  return schedule == LrSchedule::kCosine || schedule == LrSchedule::kOneCycle;
}

double WarmupFactor(int64_t warmup_steps, int64_t step) {
  if (step >= warmup_steps) return 1.0;
  return static_cast<double>(std::max<int64_t>(step, 0) + 1) / static_cast<double>(warmup_steps);
}

int64_t StepsInBudget(int64_t steps_done, double seconds_done, double budget_s, double seconds_per_step) {
  const double left = std::max(0.0, budget_s - seconds_done);
  const double more = seconds_per_step > 0 ? std::floor(left / seconds_per_step * (1.0 - kScheduleMargin)) : 0.0;
  return steps_done + std::max<int64_t>(1, static_cast<int64_t>(std::min(more, 1e12)));
}

Retime RetimeDue(int64_t fixed_step, double fixed_seconds, int64_t step, double seconds, int64_t schedule_steps,
                 double budget_s) {
  if (schedule_steps - step <= kScheduleTimingSteps) return Retime::kTooLate;
  if (step - fixed_step < kScheduleTimingSteps) return Retime::kNotYet;
  return seconds >= fixed_seconds + kScheduleRetimeAt * (budget_s - fixed_seconds) ? Retime::kNow : Retime::kNotYet;
}

float LearningRateAt(const Recipe& recipe, int64_t step, int64_t total_steps) {
  if (total_steps <= 0) total_steps = kUnknownLength;
  const double peak = recipe.lr;
  switch (recipe.schedule) {
    case LrSchedule::kCosine:
      return static_cast<float>(Cosine(peak, recipe.warmup_steps, step, total_steps));
    case LrSchedule::kOneCycle:
      return static_cast<float>(OneCycle(peak, recipe.warmup_steps, step, total_steps));
    case LrSchedule::kPlateau:
    case LrSchedule::kStep:
      break;
  }
  return static_cast<float>(peak * WarmupFactor(recipe.warmup_steps, step));
}

float NextLearningRate(const Recipe& recipe, const TrainState& state, int64_t total_steps) {
  if (PerStepSchedule(recipe.schedule)) return LearningRateAt(recipe, state.step, total_steps);
  return static_cast<float>(state.learning_rate * WarmupFactor(recipe.warmup_steps, state.step));
}

std::string RecipeText(const Recipe& r, int64_t total_steps) {
  std::string text = "lr " + CsvNumber(r.lr) + ", ";
  const std::string steps = total_steps > 0 ? std::to_string(total_steps) + " steps" : "the time budget";
  switch (r.schedule) {
    case LrSchedule::kPlateau:
      text += "/10 when validation top-1 has not improved for " + std::to_string(r.patience) + " epoch" +
              (r.patience == 1 ? "" : "s") + " (at most " + std::to_string(r.max_lr_drops) + " times)";
      break;
    case LrSchedule::kStep:
      text += "/10 every " + std::to_string(r.step_epochs) + " epochs";
      break;
    case LrSchedule::kCosine:
      text += "cosine over " + steps + " to 0";
      break;
    case LrSchedule::kOneCycle: {
      const double rise = r.warmup_steps > 0 ? static_cast<double>(r.warmup_steps)
                                             : kOneCyclePctStart * static_cast<double>(total_steps);
      const std::string rise_text = r.warmup_steps > 0 || total_steps > 0 ? CsvNumber(std::round(rise)) + " steps"
                                                                          : "30 % of the steps";
      text += "one-cycle over " + steps + ": from " + CsvNumber(r.lr / kOneCycleDivFactor) + " up to " +
              CsvNumber(r.lr) + " in " + rise_text + ", then down to " +
              CsvNumber(r.lr / kOneCycleDivFactor / kOneCycleFinalDivFactor);
      break;
    }
  }
  if (r.schedule != LrSchedule::kOneCycle) {
    text += r.warmup_steps > 0 ? ", warm-up " + std::to_string(r.warmup_steps) + " steps" : ", no warm-up";
  }
  text += r.label_smoothing > 0 ? ", label smoothing " + CsvNumber(r.label_smoothing) : ", no label smoothing";
  return text + ", momentum " + CsvNumber(r.momentum) + ", weight decay " + CsvNumber(r.weight_decay);
}

std::string MetricsCsvHeader() {
  return CsvRow({"epoch", "step", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr",
                 "images_per_s", "train_seconds"});
}

std::string MetricsCsvRow(const EpochRecord& r) {
  auto val = [&](double ValMetrics::*field) { return r.val ? FormatFixed((*r.val).*field, 6) : ""; };
  return CsvRow({std::to_string(r.epoch), std::to_string(r.step), CsvNumber(r.train_loss), CsvNumber(r.train_top1),
                 val(&ValMetrics::loss), val(&ValMetrics::top1), val(&ValMetrics::top5), CsvNumber(r.learning_rate),
                 CsvNumber(r.images_per_s), CsvNumber(r.train_seconds)});
}

std::string EpochLine(const EpochRecord& r) {
  std::string line = "epoch " + std::to_string(r.epoch) + (r.partial ? " (partial)" : "") + "  step " +
                     std::to_string(r.step) + "  train loss " + FormatFixed(r.train_loss, 4) + "  train top-1 " +
                     FormatFixed(r.train_top1, 4);
  if (r.val) {
    line += "  val loss " + FormatFixed(r.val->loss, 4) + "  val top-1 " + FormatFixed(r.val->top1, 4) +
            "  val top-5 " + FormatFixed(r.val->top5, 4);
  }
  return line + "  lr " + CsvNumber(r.learning_rate);
}

ScheduleDecision AfterEpoch(const Recipe& recipe, TrainState state, int64_t epoch, bool partial,
                            std::optional<double> val_top1) {
  ScheduleDecision d;
  if (val_top1 && *val_top1 > state.best_val_top1) {
    state.best_val_top1 = *val_top1;
    state.epochs_without_improvement = 0;
    d.best = true;
  } else if (!partial) {
    state.epochs_without_improvement += 1;
  }
  if (!partial && !PerStepSchedule(recipe.schedule)) {
    if (recipe.schedule == LrSchedule::kStep) {
      d.lr_dropped = epoch % recipe.step_epochs == 0;
    } else {
      d.lr_dropped = val_top1 && state.epochs_without_improvement >= recipe.patience &&
                     state.lr_drops < recipe.max_lr_drops;
      if (d.lr_dropped) state.epochs_without_improvement = 0;
    }
    if (d.lr_dropped) {
      state.learning_rate /= 10;
      state.lr_drops += 1;
    }
  }
  d.state = state;
  return d;
}

}  // namespace alexnet::train
