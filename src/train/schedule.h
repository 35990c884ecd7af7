// The learning-rate schedule and the bookkeeping at the end of an epoch, as small pure functions:
// the rate of every step (warm-up, cosine, one-cycle), the epoch-end schedules (the paper: divide
// by 10 when validation error stops improving) and the metrics record (one row of metrics.csv,
// one epoch line on the terminal). No I/O here, so each is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "train/config.h"
#include "train/train_state.h"

namespace alexnet::train {

struct ValMetrics {
  double loss = 0;
  double top1 = 0;
  double top5 = 0;
};

// One epoch as recorded: metrics.csv, the epoch line and TensorBoard all show these values.
struct EpochRecord {
  int64_t epoch = 0;   // 1-based, the epoch just finished
  bool partial = false;  // ended by the time budget before the epoch's last batch
  int64_t step = 0;
  double train_loss = 0;  // mean cross-entropy over the epoch's batches
  double train_top1 = 0;
  std::optional<ValMetrics> val;  // none without a validation split
  float learning_rate = 0;  // of the epoch's last step
  double images_per_s = 0;
  double train_seconds = 0;
};

std::string MetricsCsvHeader();
std::string MetricsCsvRow(const EpochRecord& r);
// "epoch 3  step 1266  train loss 0.4123  train top-1 0.8512  val loss ...  lr 0.01"
std::string EpochLine(const EpochRecord& r);

// What the end of an epoch changes in the run's state.
struct ScheduleDecision {
  TrainState state;         // best_val_top1, epochs_without_improvement, learning_rate, lr_drops
  bool best = false;        // this epoch has the best validation top-1 so far
  bool lr_dropped = false;  // the learning rate was divided by 10
};

// The schedule after epoch `epoch` (1-based). A partial epoch (time budget) can be the best but
// never counts towards the schedule. plateau: divide when validation top-1 has not improved for
// `patience` epochs, at most `max_lr_drops` times; step: divide every `step_epochs` epochs;
// cosine and onecycle: never (their rate is the step's, LearningRateAt).
ScheduleDecision AfterEpoch(const Recipe& recipe, TrainState state, int64_t epoch, bool partial,
                            std::optional<double> val_top1);

// The rate of every step. Steps are counted from 0 (TrainState::step: the steps done, so the one
// about to be taken); `total_steps` is the run's, epochs x steps per epoch. The rate depends on
// nothing else, so a resumed run (its step from state.json) continues on the same curve; a
// resumed run given another --epochs continues on the curve of its new length.
//   warm-up (--warmup-steps W, any schedule but onecycle): step s < W trains at (s + 1) / W of
//     the schedule's rate, from lr / W up to lr at step W - 1;
//   cosine: after the warm-up, lr * (1 + cos(pi * t / D)) / 2 with t = s - W of D = total - W
//     steps: lr at step W, near 0 at the last step (PyTorch's CosineAnnealingLR, T_max = D);
//   onecycle: PyTorch's OneCycleLR (anneal_strategy "cos", three_phase false): from lr / 25 at
//     step 0 up to lr at step P - 1, P = 30 % of the steps or W when given, then down to
//     lr / 25 / 1e4 at the last step, both halves cosine-shaped;
//   plateau and step: the rate is TrainState::learning_rate, divided at epoch ends (AfterEpoch),
//     times the warm-up's factor.
inline constexpr double kOneCycleDivFactor = 25;        // onecycle starts at lr / 25,
inline constexpr double kOneCycleFinalDivFactor = 1e4;  // ends at lr / 25 / 1e4,
inline constexpr double kOneCyclePctStart = 0.3;        // and rises over 30 % of the steps (PyTorch's defaults)

// Whether the schedule sets the rate of each step from its number (cosine, onecycle) rather than
// dividing it at epoch ends (plateau, step).
bool PerStepSchedule(LrSchedule schedule);

// The warm-up's factor of step `step`: (step + 1) / warmup_steps during the warm-up, else 1.
double WarmupFactor(int64_t warmup_steps, int64_t step);

// The rate of step `step` of a run of `total_steps` steps. plateau and step: recipe.lr (their rate
// before any division) times the warm-up's factor. total_steps 0: the length is not known yet (a
// schedule over a time budget before its first steps are timed): the rates of a very long run,
// that is the start of the curve (onecycle: lr / 25; cosine: lr, after the warm-up's rise).
float LearningRateAt(const Recipe& recipe, int64_t step, int64_t total_steps);

// A cosine or one-cycle schedule over a time budget (Recipe::schedule_over_budget) takes its length
// from the time of the first steps of the process: kScheduleTimingSteps steps after the first one
// (which also sets the graph up) are timed, and the length is then the steps done plus as many as
// the rest of the budget holds at that time per step, less kScheduleMargin of them, so that the
// curve ends before the budget when later steps are a little slower (progress lines, checkpoints,
// a busier machine). At least one step more than done.
// The first steps after the set-up are slower than the later ones (measured on a 2-core AVX2
// machine with oneDNN: 7.0 s against 6.3 s at batch 128, so an 8-minute curve ended 35 s early):
// once kScheduleRetimeAt of the budget left at the first fix has passed, the process that fixed
// the length times the steps since then and fixes it once more (the curve is stretched or shrunk
// from that step on; a resumed process keeps the recorded length), unless no more than
// kScheduleTimingSteps steps of the curve are left by then.
inline constexpr int64_t kScheduleTimingSteps = 4;
inline constexpr double kScheduleMargin = 0.03;
inline constexpr double kScheduleRetimeAt = 0.25;
int64_t StepsInBudget(int64_t steps_done, double seconds_done, double budget_s, double seconds_per_step);

// Whether the one re-timing is due after step `step`, `seconds` into the budget, for a length of
// `schedule_steps` fixed after step `fixed_step` at `fixed_seconds`: not yet (fewer than
// kScheduleTimingSteps steps or kScheduleRetimeAt of the budget left then since), now, or too
// late (no more than kScheduleTimingSteps steps of the curve left: it is not re-timed).
enum class Retime { kNotYet, kNow, kTooLate };
Retime RetimeDue(int64_t fixed_step, double fixed_seconds, int64_t step, double seconds, int64_t schedule_steps,
                 double budget_s);

// The rate the next step of a run in `state` trains at: LearningRateAt(recipe, state.step, ...)
// for cosine and onecycle; for plateau and step, state.learning_rate (after its divisions) times
// the warm-up's factor.
float NextLearningRate(const Recipe& recipe, const TrainState& state, int64_t total_steps);

// The recipe as a run's header shows it: "lr 0.01, cosine over 4680 steps to 0, warm-up 100
// steps, label smoothing 0.1, momentum 0.9, weight decay 0.0005". total_steps 0 (a schedule over a
// time budget, its length not known yet): "cosine over the time budget to 0, ...".
std::string RecipeText(const Recipe& recipe, int64_t total_steps);

}  // namespace alexnet::train
