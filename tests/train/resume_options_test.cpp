// What `train --resume` takes from its new command line (train/resume_options.h), without
// training: the options given that the table lists, the every-session ones always, nothing else.
#include "train/resume_options.h"

#include <gtest/gtest.h>

namespace alexnet::train {
namespace {

TEST(ResumeOptions, GivenTableOptionsAndEverySessionOnesAreTakenTheRunKeepsTheRest) {
  TrainConfig run;
  run.recipe.epochs = 1;
  run.recipe.lr = 0.01f;
  run.run.workers = 2;
  run.run.keep_checkpoints = 3;
  TrainConfig given = run;
  given.recipe.epochs = 5;
  given.recipe.lr = 0.1f;
  given.run.workers = 7;            // every session's own, given or not
  given.run.keep_checkpoints = 9;   // in the table, but not given
  const TrainOverrides o{{"--run", "--resume", "--epochs", "--lr"}};
  const TrainConfig resumed = ApplyResumeOptions(run, given, o);
  EXPECT_EQ(resumed.recipe.epochs, 5);
  EXPECT_FLOAT_EQ(resumed.recipe.lr, 0.01f);
  EXPECT_EQ(resumed.run.workers, 7);
  EXPECT_EQ(resumed.run.keep_checkpoints, 3);
  EXPECT_EQ(o.Fixed(), std::vector<std::string>{"--lr"});
  EXPECT_TRUE(o.Any());
}

TEST(ResumeOptions, OnlyEverySessionOptionsChangeNothingConfigJsonRecords) {
  EXPECT_FALSE((TrainOverrides{{"--run", "--resume", "--workers", "--threads", "--cluster"}}.Any()));
  EXPECT_TRUE((TrainOverrides{{"--run", "--workers"}}.Fixed().empty()));
  EXPECT_TRUE((TrainOverrides{{"--keep"}}.Any()));
}

// The schedule, its warm-up and the label smoothing are the run's recipe: a resumed run keeps them
// (a note names them as not used), so that its learning rate continues on the curve it was on.
TEST(ResumeOptions, TheScheduleWarmUpAndLabelSmoothingAreTheRunsOwn) {
  TrainConfig run;
  run.recipe.schedule = LrSchedule::kCosine;
  run.recipe.warmup_steps = 100;
  run.recipe.label_smoothing = 0.1f;
  TrainConfig given;
  given.recipe.schedule = LrSchedule::kOneCycle;
  given.recipe.warmup_steps = 7;
  given.recipe.label_smoothing = 0.2f;
  const TrainOverrides o{{"--run", "--resume", "--lr-schedule", "--warmup-steps", "--label-smoothing"}};
  const TrainConfig resumed = ApplyResumeOptions(run, given, o);
  EXPECT_EQ(resumed.recipe.schedule, LrSchedule::kCosine);
  EXPECT_EQ(resumed.recipe.warmup_steps, 100);
  EXPECT_EQ(resumed.recipe.label_smoothing, 0.1f);
  EXPECT_EQ(o.Fixed(), (std::vector<std::string>{"--lr-schedule", "--warmup-steps", "--label-smoothing"}));
  EXPECT_FALSE(o.Any());
}

// Every flag in the table is one a person can type: no empty or misspelt names.
TEST(ResumeOptions, EveryRowIsAFlag) {
  for (const ResumeOption& r : ResumeOptions()) {
    const std::string f = r.flag;
    EXPECT_EQ(f.rfind("--", 0), 0u) << f;
    EXPECT_EQ(f.find_first_of(" =_"), std::string::npos) << f;
  }
}

}  // namespace
}  // namespace alexnet::train
