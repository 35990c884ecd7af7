// The flags shared by the subcommands of `alexnet` (src/cli/flags.h, validators.h), parsed by
// CLI11 straight into the option structs, without TensorFlow: values, defaults, and the errors
// a bad value gives.
#include "cli/flags.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/validators.h"
#include "train/resume_options.h"

namespace alexnet::cli {
namespace {

// Parses `args` (without the program name) as CLI11 does for the tool. Returns "" on success,
// else the error's name and message.
std::string Parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return e.get_name() + ": " + e.what();
  }
  return "";
}

TEST(Flags, ModelOptionsKeepTheirDefaults) {
  CLI::App app;
  model::ModelOptions o;
  AddModelOptions(&app, &o);
  ASSERT_EQ(Parse(app, {}), "");
  const model::ModelOptions d;
  EXPECT_FLOAT_EQ(o.dropout_rate, d.dropout_rate);
  EXPECT_EQ(o.lrn, d.lrn);
  EXPECT_EQ(o.init, model::Init::kPaper);
  EXPECT_EQ(o.seed, d.seed);
}

TEST(Flags, ModelOptionsParse) {
  CLI::App app;
  model::ModelOptions o;
  AddModelOptions(&app, &o);
  ASSERT_EQ(Parse(app, {"--dropout", "0.25", "--no-lrn", "--init", "he", "--seed", "42"}), "");
  EXPECT_FLOAT_EQ(o.dropout_rate, 0.25f);
  EXPECT_FALSE(o.lrn);
  EXPECT_EQ(o.init, model::Init::kHe);
  EXPECT_EQ(o.seed, 42);
}

TEST(Flags, LayerTableVariantsParse) {
  CLI::App app;
  model::ModelOptions o;
  AddModelOptions(&app, &o);
  ASSERT_EQ(Parse(app, {}), "");
  EXPECT_EQ(o.activation, model::Activation::kRelu);  // the paper's, by default
  EXPECT_EQ(o.pool_kernel, 3);
  EXPECT_EQ(o.pool_stride, 2);
  CLI::App app2;
  AddModelOptions(&app2, &o);
  ASSERT_EQ(Parse(app2, {"--activation", "tanh", "--pool", "2/2"}), "");
  EXPECT_EQ(o.activation, model::Activation::kTanh);
  EXPECT_EQ(o.pool_kernel, 2);
  EXPECT_EQ(o.pool_stride, 2);
}

TEST(Flags, BadVariantsAreRefusedAndLeaveTheOptionsAlone) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--activation", "sigmoid"}, {"--pool", "3"}, {"--pool", "3/0"}, {"--pool", "x/2"},
        {"--pool", "/2"}, {"--pool", "3/2/1"}, {"--pool", "-3/2"}}) {
    CLI::App app;
    model::ModelOptions o;
    AddModelOptions(&app, &o);
    const std::string error = Parse(app, args);
    EXPECT_NE(error.find("ValidationError"), std::string::npos) << args[1] << ": " << error;
    EXPECT_NE(error.find(args[0]), std::string::npos) << error;
    EXPECT_EQ(o.activation, model::Activation::kRelu) << args[1];
    EXPECT_EQ(o.pool_kernel, 3) << args[1];
    EXPECT_EQ(o.pool_stride, 2) << args[1];
  }
}

TEST(Flags, LrnFlagTurnsItBackOn) {
  CLI::App app;
  model::ModelOptions o;
  o.lrn = false;
  AddModelOptions(&app, &o);
  ASSERT_EQ(Parse(app, {"--lrn"}), "");
  EXPECT_TRUE(o.lrn);
}

TEST(Flags, BadInitIsRefused) {
  CLI::App app;
  model::ModelOptions o;
  AddModelOptions(&app, &o);
  const std::string error = Parse(app, {"--init", "xavier"});
  EXPECT_NE(error.find("ValidationError"), std::string::npos) << error;
  EXPECT_NE(error.find("--init"), std::string::npos) << error;
  EXPECT_NE(error.find("xavier"), std::string::npos) << error;
  EXPECT_EQ(o.init, model::Init::kPaper);  // untouched
}

TEST(Flags, InitDefaultIsShownByName) {
  CLI::App app;
  model::Init init = model::Init::kHe;
  CLI::Option* option = AddInitOption(&app, &init, "init");
  EXPECT_EQ(option->get_default_str(), "he");
  ASSERT_EQ(Parse(app, {"--init", "paper"}), "");
  EXPECT_EQ(init, model::Init::kPaper);
}

TEST(Flags, DropoutOutOfRangeIsRefused) {
  CLI::App app;
  model::ModelOptions o;
  AddModelOptions(&app, &o);
  EXPECT_NE(Parse(app, {"--dropout", "0.99"}).find("--dropout"), std::string::npos);
}

TEST(Flags, DataOptionsParse) {
  CLI::App app;
  train::DataSpec d;
  AddDataOptions(&app, &d);
  ASSERT_EQ(Parse(app, {"--data", "/images", "--list", "l.txt", "--fashion-dir", "/f", "--resize", "128",
                        "--crop", "112"}),
            "");
  EXPECT_EQ(d.source, "/images");
  EXPECT_EQ(d.list_file, "l.txt");
  EXPECT_EQ(d.fashion_dir, "/f");
  EXPECT_EQ(d.resize, 128);
  EXPECT_EQ(d.crop, 112);
}

TEST(Flags, DataSizesMustBePositive) {
  for (const std::string flag : {"--resize", "--crop"}) {
    CLI::App app;
    train::DataSpec d;
    AddDataOptions(&app, &d);
    const std::string error = Parse(app, {flag, "0"});
    EXPECT_NE(error.find(flag), std::string::npos) << error;
  }
}

TEST(Flags, ShapeOptionsParseAndMustBePositive) {
  CLI::App app;
  model::ModelOptions o;
  AddShapeOptions(&app, &o);
  ASSERT_EQ(Parse(app, {"--classes", "10", "--input-size", "67"}), "");
  EXPECT_EQ(o.num_classes, 10);
  EXPECT_EQ(o.input_size, 67);
  CLI::App app2;
  AddShapeOptions(&app2, &o);
  EXPECT_NE(Parse(app2, {"--classes", "-3"}).find("--classes"), std::string::npos);
}

TEST(Flags, SplitGoesIntoTheEnum) {
  CLI::App app;
  train::Split split = train::Split::kTest;
  CLI::Option* option = AddSplitOption(&app, &split, {train::Split::kTest, train::Split::kVal}, "split");
  EXPECT_EQ(option->get_default_str(), "test");
  ASSERT_EQ(Parse(app, {"--split", "val"}), "");
  EXPECT_EQ(split, train::Split::kVal);
}

TEST(Flags, SplitOutsideTheListIsRefused) {
  CLI::App app;
  train::Split split = train::Split::kTest;
  AddSplitOption(&app, &split, {train::Split::kTest, train::Split::kVal}, "split");
  const std::string error = Parse(app, {"--split", "train"});
  EXPECT_NE(error.find("--split"), std::string::npos) << error;
  EXPECT_EQ(split, train::Split::kTest);
}

TEST(Flags, LrnKernelIsOursByDefaultTensorFlowsWhenAskedAndNothingElse) {
  CLI::App app;
  model::ModelOptions o;
  CLI::Option* option = AddLrnKernelOption(&app, &o.lrn_kernel);
  EXPECT_EQ(option->get_default_str(), "alexnet");
  ASSERT_EQ(Parse(app, {"--lrn-kernel", "tensorflow"}), "");
  EXPECT_EQ(o.lrn_kernel, model::LrnKernel::kTensorFlow);
  CLI::App app2;
  model::ModelOptions o2;
  AddLrnKernelOption(&app2, &o2.lrn_kernel);
  const std::string error = Parse(app2, {"--lrn-kernel", "mkl"});
  EXPECT_NE(error.find("--lrn-kernel"), std::string::npos) << error;
  EXPECT_EQ(o2.lrn_kernel, model::LrnKernel::kOwn);
}

TEST(Flags, RunOptionIsRequired) {
  CLI::App app;
  std::string run, checkpoint;
  AddRunOptions(&app, &run, &checkpoint);
  EXPECT_NE(Parse(app, {}).find("--run"), std::string::npos);
  CLI::App app2;
  AddRunOptions(&app2, &run, &checkpoint);
  ASSERT_EQ(Parse(app2, {"--run", "runs/x", "--checkpoint", "best"}), "");
  EXPECT_EQ(run, "runs/x");
  EXPECT_EQ(checkpoint, "best");
}

TEST(Flags, NonNegativeTakesZeroAndRefusesNegatives) {
  CLI::App app;
  int64_t limit = 7;
  app.add_option("--limit", limit, "images")->check(kNonNegative);
  ASSERT_EQ(Parse(app, {"--limit", "0"}), "");
  EXPECT_EQ(limit, 0);

  CLI::App negative;
  negative.add_option("--limit", limit, "images")->check(kNonNegative);
  const std::string error = Parse(negative, {"--limit", "-1"});
  EXPECT_NE(error.find("--limit: must be 0 or more, got -1"), std::string::npos) << error;

  CLI::App text;
  text.add_option("--limit", limit, "images")->check(kNonNegative);
  const std::string not_number = Parse(text, {"--limit", "many"});
  EXPECT_NE(not_number.find("'many' is not a number"), std::string::npos) << not_number;
}

TEST(Flags, FractionTakesZeroAndRefusesOneAndNegatives) {
  CLI::App app;
  float eps = 0.5f;
  app.add_option("--label-smoothing", eps)->check(kFraction);
  ASSERT_EQ(Parse(app, {"--label-smoothing", "0"}), "");
  EXPECT_EQ(eps, 0.0f);
  for (const char* bad : {"1", "-0.1", "1.5"}) {
    CLI::App refused;
    refused.add_option("--label-smoothing", eps)->check(kFraction);
    const std::string error = Parse(refused, {"--label-smoothing", bad});
    EXPECT_NE(error.find(std::string("--label-smoothing: must be at least 0 and below 1, got ") + bad),
              std::string::npos)
        << error;
  }
}

TEST(Flags, LrScheduleTakesEveryScheduleByName) {
  for (const auto& [name, value] : {std::pair{"plateau", train::LrSchedule::kPlateau},
                                    std::pair{"step", train::LrSchedule::kStep},
                                    std::pair{"cosine", train::LrSchedule::kCosine},
                                    std::pair{"onecycle", train::LrSchedule::kOneCycle}}) {
    CLI::App app;
    train::LrSchedule schedule = train::LrSchedule::kPlateau;
    AddLrScheduleOption(&app, &schedule);
    ASSERT_EQ(Parse(app, {"--lr-schedule", name}), "") << name;
    EXPECT_EQ(schedule, value) << name;
  }
  CLI::App app;
  train::LrSchedule schedule = train::LrSchedule::kPlateau;
  AddLrScheduleOption(&app, &schedule);
  EXPECT_NE(Parse(app, {"--lr-schedule", "linear"}), "");
}

// What `train --resume` would silently ignore is named: the options of the data, model and
// recipe given again; the epochs, the run's own options and the flags never given are not.
TEST(Flags, OptionsFixedOnResumeAreTheGivenRecipeAndModelOptions) {
  CLI::App app;
  model::ModelOptions m;
  train::DataSpec d;
  bool resume = false;
  int epochs = 0, keep = 0;
  std::string run;
  float lr = 0;
  AddModelOptions(&app, &m);
  AddDataOptions(&app, &d);
  app.add_flag("--resume", resume);
  app.add_option("--run", run);
  app.add_option("--epochs", epochs);
  app.add_option("--keep", keep);
  app.add_option("--lr", lr);
  ASSERT_EQ(Parse(app, {"--run", "r", "--resume", "--epochs", "3", "--keep", "9"}), "");
  EXPECT_TRUE(train::TrainOverrides{GivenOptions(app)}.Fixed().empty());
  EXPECT_TRUE(train::TrainOverrides{GivenOptions(app)}.Any());  // --epochs and --keep are recorded
  CLI::App again;
  AddModelOptions(&again, &m);
  AddDataOptions(&again, &d);
  again.add_flag("--resume", resume);
  again.add_option("--lr", lr);
  ASSERT_EQ(Parse(again, {"--resume", "--seed", "5", "--lr", "0.1", "--no-lrn"}), "");
  const std::vector<std::string> fixed = train::TrainOverrides{GivenOptions(again)}.Fixed();
  EXPECT_FALSE(train::TrainOverrides{GivenOptions(again)}.Any());
  EXPECT_EQ(fixed.size(), 3u);
  for (const char* name : {"--seed", "--lr", "--lrn"}) {
    EXPECT_NE(std::find(fixed.begin(), fixed.end(), name), fixed.end()) << name;
  }
}

}  // namespace
}  // namespace alexnet::cli
