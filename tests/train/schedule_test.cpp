// The schedule and the end-of-epoch bookkeeping as pure functions: the learning-rate schedules
// (the paper's divide-by-10 on a plateau, a fixed step, the per-step cosine and one-cycle, the
// warm-up) and the metrics record (metrics.csv row, epoch line).
#include "train/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "util/csv.h"

namespace alexnet::train {
namespace {

Recipe Plateau(int patience, int max_drops) {
  Recipe r;
  r.schedule = LrSchedule::kPlateau;
  r.patience = patience;
  r.max_lr_drops = max_drops;
  return r;
}

TrainState Start(float lr) {
  TrainState s;
  s.learning_rate = lr;
  return s;
}

TEST(Schedule, PlateauDividesByTenAfterPatienceEpochsWithoutImprovement) {
  const Recipe r = Plateau(2, 3);
  ScheduleDecision d = AfterEpoch(r, Start(0.01f), 1, false, 0.50);
  EXPECT_TRUE(d.best);
  EXPECT_FALSE(d.lr_dropped);
  EXPECT_DOUBLE_EQ(d.state.best_val_top1, 0.50);
  d = AfterEpoch(r, d.state, 2, false, 0.49);  // one epoch without improvement: not yet
  EXPECT_FALSE(d.best);
  EXPECT_FALSE(d.lr_dropped);
  EXPECT_EQ(d.state.epochs_without_improvement, 1);
  d = AfterEpoch(r, d.state, 3, false, 0.50);  // equal is not better: second epoch, divide
  EXPECT_TRUE(d.lr_dropped);
  EXPECT_FLOAT_EQ(d.state.learning_rate, 0.001f);
  EXPECT_EQ(d.state.lr_drops, 1);
  EXPECT_EQ(d.state.epochs_without_improvement, 0);  // patience starts again after a division
  d = AfterEpoch(r, d.state, 4, false, 0.60);
  EXPECT_TRUE(d.best);
  EXPECT_FALSE(d.lr_dropped);
  EXPECT_FLOAT_EQ(d.state.learning_rate, 0.001f);
}

TEST(Schedule, PlateauDividesAtMostMaxDropsTimes) {
  const Recipe r = Plateau(1, 2);
  TrainState s = Start(1.0f);
  s.best_val_top1 = 0.9;
  int drops = 0;
  for (int epoch = 1; epoch <= 6; ++epoch) {
    const ScheduleDecision d = AfterEpoch(r, s, epoch, false, 0.1);
    drops += d.lr_dropped;
    s = d.state;
  }
  EXPECT_EQ(drops, 2);
  EXPECT_EQ(s.lr_drops, 2);
  EXPECT_FLOAT_EQ(s.learning_rate, 0.01f);
}

TEST(Schedule, PlateauNeedsValidation) {
  const ScheduleDecision d = AfterEpoch(Plateau(1, 3), Start(0.01f), 1, false, std::nullopt);
  EXPECT_FALSE(d.best);
  EXPECT_FALSE(d.lr_dropped);
  EXPECT_FLOAT_EQ(d.state.learning_rate, 0.01f);
}

TEST(Schedule, StepDividesEveryStepEpochsWhateverValidationDoes) {
  Recipe r;
  r.schedule = LrSchedule::kStep;
  r.step_epochs = 4;
  TrainState s = Start(0.01f);
  std::vector<int> dropped_after;
  for (int epoch = 1; epoch <= 10; ++epoch) {
    const ScheduleDecision d = AfterEpoch(r, s, epoch, false, 0.1 * epoch);  // always improving
    if (d.lr_dropped) dropped_after.push_back(epoch);
    s = d.state;
  }
  EXPECT_EQ(dropped_after, (std::vector<int>{4, 8}));
  EXPECT_FLOAT_EQ(s.learning_rate, 0.0001f);
}

TEST(Schedule, APartialEpochCanBeBestButNeverCountsTowardsTheSchedule) {
  Recipe step;
  step.schedule = LrSchedule::kStep;
  step.step_epochs = 1;
  ScheduleDecision d = AfterEpoch(step, Start(0.01f), 1, /*partial=*/true, 0.4);
  EXPECT_TRUE(d.best);
  EXPECT_FALSE(d.lr_dropped);
  TrainState s = Start(0.01f);
  s.best_val_top1 = 0.9;
  d = AfterEpoch(Plateau(1, 3), s, 1, /*partial=*/true, 0.1);
  EXPECT_FALSE(d.lr_dropped);
  EXPECT_EQ(d.state.epochs_without_improvement, 0);
}

// The learning rate of every step (LearningRateAt, NextLearningRate). The expected values are
// written out from the formulas here, and the cosine and one-cycle ones were also printed by
// PyTorch 1.13 (Debian's python3-torch), with lr 0.1 and 100 steps:
//   import torch; p = torch.nn.Parameter(torch.zeros(1)); o = torch.optim.SGD([p], lr=0.1)
//   s = torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=100, pct_start=0.3,
//                                           anneal_strategy='cos', cycle_momentum=False)
//   # (or CosineAnnealingLR(o, T_max=100)); then 100 times: print the lr; o.step(); s.step()

constexpr double kPi = 3.14159265358979323846;

Recipe WithSchedule(LrSchedule schedule, int64_t warmup_steps = 0) {
  Recipe r;
  r.lr = 0.1f;
  r.schedule = schedule;
  r.warmup_steps = warmup_steps;
  return r;
}

// The step's rate as a float carries about 7 digits.
void ExpectRate(float actual, double expected, int64_t step) {
  EXPECT_NEAR(actual, expected, 1e-6 * expected + 1e-12) << "step " << step;
}

void ExpectRates(const Recipe& r, int64_t total, const std::map<int64_t, double>& expected) {
  for (const auto& [step, lr] : expected) ExpectRate(LearningRateAt(r, step, total), lr, step);
}

TEST(LearningRate, CosineGoesFromThePeakToNearZeroAtTheLastStep) {
  const Recipe r = WithSchedule(LrSchedule::kCosine);
  ExpectRates(r, 100,
              {{0, 0.1},
               {1, 0.09997532801828658},
               {25, 0.05 * (1 + std::cos(kPi / 4))},  // PyTorch: 0.0853553390593274
               {50, 0.05},
               {75, 0.014644660940672643},
               {99, 0.05 * (1 + std::cos(kPi * 99 / 100))}});  // PyTorch: 2.4671981713420017e-05
  const float last = LearningRateAt(r, 99, 100);
  EXPECT_GT(last, 0.0f);  // the last step still learns a little
  EXPECT_LT(last, 1e-3f * r.lr);
}

TEST(LearningRate, CosineStartsAfterTheWarmUp) {
  const Recipe r = WithSchedule(LrSchedule::kCosine, 20);
  // 20 steps of warm-up, then half a cosine over the other 80.
  ExpectRates(r, 100,
              {{0, 0.1 / 20},
               {9, 0.1 * 10 / 20},
               {19, 0.1},
               {20, 0.1},
               {40, 0.05 * (1 + std::cos(kPi / 4))},
               {60, 0.05},
               {99, 0.05 * (1 + std::cos(kPi * 79 / 80))}});
}

TEST(LearningRate, OneCycleIsPyTorchsOneCycleLR) {
  const Recipe r = WithSchedule(LrSchedule::kOneCycle);
  ExpectRates(r, 100,
              {{0, 0.1 / 25},  // PyTorch: 0.0040000000000000036
               {1, 0.004281378056590748},
               {10, 0.029516394846410082},
               {28, 0.09971862194340926},
               {29, 0.1},  // the peak at 30 % of the steps, step 0.3 * 100 - 1
               {30, 0.09994965352845243},
               {50, 0.0793893450575732},
               {64, (0.1 + 0.1 / 25 / 1e4) / 2},  // half-way down: PyTorch's 0.0500002
               {98, 5.07464715475788e-05},
               {99, 0.1 / 25 / 1e4}});  // PyTorch: 4e-07
}

TEST(LearningRate, OneCycleRisesOverTheWarmUpStepsWhenGiven) {
  // As PyTorch's pct_start 0.1 of 100 steps: the peak at step 9.
  const Recipe r = WithSchedule(LrSchedule::kOneCycle, 10);
  ExpectRates(r, 100,
              {{0, 0.004},
               {1, 0.006894754202276393},
               {9, 0.1},
               {10, 0.0999695414727894},
               {29, 0.08830226894706028},
               {50, 0.05695882721338308},
               {64, 0.03289926123774523},
               {98, 3.0858527210615715e-05},
               {99, 4e-07}});
}

TEST(LearningRate, WarmUpRisesLinearlyToThePeakForEverySchedule) {
  for (LrSchedule schedule : {LrSchedule::kPlateau, LrSchedule::kStep, LrSchedule::kCosine}) {
    const Recipe r = WithSchedule(schedule, 8);
    SCOPED_TRACE(NameIn(kLrScheduleNames, schedule));
    ExpectRate(LearningRateAt(r, 0, 1000), 0.1 / 8, 0);  // near 0, not 0: the first step learns
    ExpectRate(LearningRateAt(r, 3, 1000), 0.1 * 4 / 8, 3);
    EXPECT_EQ(LearningRateAt(r, 7, 1000), r.lr);  // the warm-up's last step is at the peak
    for (int64_t step = 1; step < 8; ++step) {
      EXPECT_GT(LearningRateAt(r, step, 1000), LearningRateAt(r, step - 1, 1000)) << step;
      EXPECT_NEAR(LearningRateAt(r, step, 1000) - LearningRateAt(r, step - 1, 1000), 0.1 / 8, 1e-7) << step;
    }
  }
  EXPECT_EQ(WarmupFactor(0, 0), 1.0);  // no warm-up
  EXPECT_EQ(WarmupFactor(8, 8), 1.0);
  EXPECT_EQ(WarmupFactor(8, 1000), 1.0);
}

// Between its ends each segment moves one way: up during the warm-up (or one-cycle's rise), then
// down to the last step; plateau and step stay at the state's rate after the warm-up.
TEST(LearningRate, EachSegmentIsMonotonic) {
  const int64_t total = 300;
  struct Case {
    Recipe recipe;
    int64_t peak_step;  // the last step of the rise
  };
  const Case cases[] = {{WithSchedule(LrSchedule::kCosine), 0},
                        {WithSchedule(LrSchedule::kCosine, 30), 29},
                        {WithSchedule(LrSchedule::kOneCycle), 89},  // 0.3 * 300 - 1
                        {WithSchedule(LrSchedule::kOneCycle, 50), 49}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(NameIn(kLrScheduleNames, c.recipe.schedule)) + ", warm-up " +
                 std::to_string(c.recipe.warmup_steps));
    EXPECT_EQ(LearningRateAt(c.recipe, c.peak_step, total), c.recipe.lr);
    for (int64_t step = 1; step < total; ++step) {
      const float before = LearningRateAt(c.recipe, step - 1, total), now = LearningRateAt(c.recipe, step, total);
      if (step <= c.peak_step) {
        EXPECT_GT(now, before) << step;
      } else {
        EXPECT_LE(now, before) << step;
        EXPECT_GT(now, 0.0f) << step;
      }
    }
  }
  const Recipe plateau = WithSchedule(LrSchedule::kPlateau, 30);
  TrainState s = Start(0.001f);  // after two divisions
  for (s.step = 30; s.step < total; ++s.step) EXPECT_EQ(NextLearningRate(plateau, s, total), 0.001f) << s.step;
}

// Without a warm-up, plateau and step train at the state's rate exactly, as before the per-step
// schedules; with one, the warm-up multiplies the rate after its divisions too.
TEST(LearningRate, PlateauAndStepTrainAtTheStatesRateTimesTheWarmUp) {
  TrainState s = Start(0.001f);
  s.step = 4;
  for (LrSchedule schedule : {LrSchedule::kPlateau, LrSchedule::kStep}) {
    EXPECT_EQ(NextLearningRate(WithSchedule(schedule), s, 100), 0.001f);
    ExpectRate(NextLearningRate(WithSchedule(schedule, 10), s, 100), 0.001 * 5 / 10, s.step);
  }
}

TEST(LearningRate, PerStepSchedulesIgnoreTheStatesRateAndEpochEndsNeverDivideIt) {
  for (LrSchedule schedule : {LrSchedule::kCosine, LrSchedule::kOneCycle}) {
    const Recipe r = WithSchedule(schedule);
    TrainState s = Start(r.lr);
    s.step = 40;
    s.best_val_top1 = 0.9;
    EXPECT_EQ(NextLearningRate(r, s, 100), LearningRateAt(r, 40, 100));
    for (int epoch = 1; epoch <= 5; ++epoch) {  // never improving: plateau would divide
      const ScheduleDecision d = AfterEpoch(r, s, epoch, false, 0.1);
      EXPECT_FALSE(d.lr_dropped);
      s = d.state;
    }
    EXPECT_EQ(s.learning_rate, r.lr);
    EXPECT_EQ(s.lr_drops, 0);
  }
}

// A run stopped at any step and resumed from its state.json trains every later step at the rate
// the uninterrupted run would have: the rate is a function of the recipe, the step and the
// run's length alone (plus, for plateau and step, the state's divided rate, which state.json keeps).
TEST(LearningRate, AResumedRunContinuesOnTheSameCurve) {
  const int64_t steps_per_epoch = 10, total = 6 * steps_per_epoch;
  const Recipe recipes[] = {WithSchedule(LrSchedule::kCosine, 15), WithSchedule(LrSchedule::kOneCycle),
                            WithSchedule(LrSchedule::kOneCycle, 7), WithSchedule(LrSchedule::kPlateau, 15),
                            WithSchedule(LrSchedule::kStep, 5)};
  for (Recipe r : recipes) {
    r.step_epochs = 2;
    SCOPED_TRACE(NameIn(kLrScheduleNames, r.schedule));
    // One step: its rate, then the epoch end's schedule (validation never improves after epoch 1).
    auto step = [&](TrainState& s) {
      const float lr = NextLearningRate(r, s, total);
      s.step += 1;
      if (s.step % steps_per_epoch == 0) {
        s = AfterEpoch(r, s, s.step / steps_per_epoch, false, s.step == steps_per_epoch ? 0.5 : 0.1).state;
      }
      return lr;
    };
    TrainState uninterrupted = Start(r.lr);
    std::vector<float> expected;
    for (int64_t i = 0; i < total; ++i) expected.push_back(step(uninterrupted));
    for (int64_t stop : {1, 14, 15, 23, 30, 59}) {
      TrainState s = Start(r.lr);
      for (int64_t i = 0; i < stop; ++i) step(s);
      Result<TrainState> resumed = TrainStateFromJson(ToJson(s));  // what a checkpoint keeps
      ASSERT_TRUE(resumed.ok()) << resumed.status().message();
      for (int64_t i = stop; i < total; ++i) EXPECT_EQ(step(*resumed), expected[i]) << "stopped at " << stop;
    }
  }
}

TEST(LearningRate, TheHeaderSaysTheRecipe) {
  EXPECT_EQ(RecipeText(Recipe{}, 900),
            "lr 0.01, /10 when validation top-1 has not improved for 1 epoch (at most 3 times), no warm-up, "
            "no label smoothing, momentum 0.9, weight decay 0.0005");
  Recipe r = WithSchedule(LrSchedule::kCosine, 20);
  r.label_smoothing = 0.1f;
  EXPECT_EQ(RecipeText(r, 100),
            "lr 0.1, cosine over 100 steps to 0, warm-up 20 steps, label smoothing 0.1, momentum 0.9, "
            "weight decay 0.0005");
  EXPECT_EQ(RecipeText(WithSchedule(LrSchedule::kOneCycle), 100),
            "lr 0.1, one-cycle over 100 steps: from 0.004 up to 0.1 in 30 steps, then down to 4e-07, "
            "no label smoothing, momentum 0.9, weight decay 0.0005");
  r = WithSchedule(LrSchedule::kStep, 5);
  r.step_epochs = 4;
  EXPECT_EQ(RecipeText(r, 100),
            "lr 0.1, /10 every 4 epochs, warm-up 5 steps, no label smoothing, momentum 0.9, weight decay 0.0005");
}

// Over a time budget: before the length is fixed (total 0) the rates are those of the start of
// the curve (onecycle: lr / 25 at every early step; cosine: the warm-up's rise, then the peak),
// and the header names the budget instead of a number of steps.
TEST(ScheduleOverBudget, BeforeItsLengthIsFixedTheCurveIsAtItsStart) {
  const Recipe one_cycle = WithSchedule(LrSchedule::kOneCycle);
  for (int64_t step = 0; step < 6; ++step) EXPECT_NEAR(LearningRateAt(one_cycle, step, 0), 0.1 / 25, 1e-9) << step;
  const Recipe cosine = WithSchedule(LrSchedule::kCosine, 4);
  EXPECT_FLOAT_EQ(LearningRateAt(cosine, 0, 0), 0.1f / 4);
  EXPECT_FLOAT_EQ(LearningRateAt(cosine, 3, 0), 0.1f);
  EXPECT_FLOAT_EQ(LearningRateAt(cosine, 5, 0), 0.1f);
  EXPECT_EQ(RecipeText(one_cycle, 0),
            "lr 0.1, one-cycle over the time budget: from 0.004 up to 0.1 in 30 % of the steps, then down to "
            "4e-07, no label smoothing, momentum 0.9, weight decay 0.0005");
  EXPECT_EQ(RecipeText(cosine, 0).rfind("lr 0.1, cosine over the time budget to 0, warm-up 4 steps", 0), 0u);
}

// The length: the steps done plus what the rest of the budget holds at the timed pace, less the
// margin; at least one step more.
TEST(ScheduleOverBudget, StepsInBudgetFillsTheRestOfTheBudgetLessTheMargin) {
  // 5 steps done in 30 s of a 480 s budget at 6 s per step: 450 / 6 = 75 more, less 3 %: 72.
  EXPECT_EQ(StepsInBudget(5, 30, 480, 6.0), 5 + 72);
  EXPECT_EQ(StepsInBudget(5, 30, 480, 6.0), 5 + int64_t(std::floor(75 * (1 - kScheduleMargin))));
  EXPECT_EQ(StepsInBudget(5, 500, 480, 6.0), 6);  // the budget is already spent
  EXPECT_EQ(StepsInBudget(5, 30, 480, 0.0), 6);   // no time measured
  EXPECT_EQ(StepsInBudget(0, 0, 1e30, 1e-30), 1000000000000);  // bounded, no overflow
}

// The one re-timing: fixed after step 5 at 30 s of 480 with 77 steps, it is due once 4 steps
// later and a quarter of the 450 s then left (112.5 s) have passed; not when the curve's last
// 4 steps are reached first (a short budget: the case CI's loaded machine hit at the last step).
TEST(ScheduleOverBudget, RetimingIsDueOnceAQuarterOfTheBudgetPassedUnlessTheCurveIsAlmostOver) {
  EXPECT_EQ(RetimeDue(5, 30, 8, 200, 77, 480), Retime::kNotYet);      // 3 steps since the fix
  EXPECT_EQ(RetimeDue(5, 30, 20, 142, 77, 480), Retime::kNotYet);     // 112 s since the fix
  EXPECT_EQ(RetimeDue(5, 30, 20, 142.5, 77, 480), Retime::kNow);
  EXPECT_EQ(RetimeDue(5, 30, 9, 142.5, 77, 480), Retime::kNow);       // 4 steps since the fix
  EXPECT_EQ(RetimeDue(5, 30, 73, 470, 77, 480), Retime::kTooLate);    // 4 steps of the curve left
  EXPECT_EQ(RetimeDue(5, 4, 6, 5, 9, 8), Retime::kTooLate);           // a curve of 9 steps
  EXPECT_EQ(RetimeDue(5, 30, 72, 142.5, 77, 480), Retime::kNow);
}

EpochRecord Record() {
  EpochRecord r;
  r.epoch = 3;
  r.step = 1266;
  r.train_loss = 0.412345678;
  r.train_top1 = 0.247222;
  r.val = ValMetrics{0.5, 0.8512345, 0.99};
  r.learning_rate = 0.001f;
  r.images_per_s = 29.25;
  r.train_seconds = 3725.5;
  return r;
}

TEST(MetricsRecord, CsvRowMatchesTheHeaderColumnByColumn) {
  const auto table = ParseCsv(MetricsCsvHeader() + "\n" + MetricsCsvRow(Record()) + "\n", "metrics.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  const CsvTable& t = table.value();
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.Field(0, t.Column("epoch")), "3");
  EXPECT_EQ(t.Field(0, t.Column("step")), "1266");
  EXPECT_DOUBLE_EQ(std::stod(t.Field(0, t.Column("train_loss"))), 0.412346);
  EXPECT_DOUBLE_EQ(std::stod(t.Field(0, t.Column("val_top1"))), 0.851235);
  EXPECT_DOUBLE_EQ(std::stod(t.Field(0, t.Column("lr"))), 0.001);
  EXPECT_DOUBLE_EQ(std::stod(t.Field(0, t.Column("train_seconds"))), 3725.5);
}

TEST(MetricsRecord, NoValidationLeavesItsColumnsEmpty) {
  EpochRecord r = Record();
  r.val.reset();
  const auto table = ParseCsv(MetricsCsvHeader() + "\n" + MetricsCsvRow(r) + "\n", "metrics.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  for (const char* col : {"val_loss", "val_top1", "val_top5"}) {
    EXPECT_EQ(table->Field(0, table->Column(col)), "") << col;
  }
  EXPECT_EQ(table->Field(0, table->Column("lr")), "0.001");
}

TEST(MetricsRecord, EpochLineHasAFixedReadablePrecision) {
  EpochRecord r = Record();
  r.partial = true;
  EXPECT_EQ(EpochLine(r),
            "epoch 3 (partial)  step 1266  train loss 0.4123  train top-1 0.2472  val loss 0.5000  "
            "val top-1 0.8512  val top-5 0.9900  lr 0.001");
}

}  // namespace
}  // namespace alexnet::train
