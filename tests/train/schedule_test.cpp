// The end-of-epoch bookkeeping as pure functions: the learning-rate schedule (the paper's
// divide-by-10 on a plateau, or a fixed step) and the metrics record (metrics.csv row, epoch line).
#include "train/schedule.h"

#include <gtest/gtest.h>

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
