// bench-input, extract: the input pipeline alone.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/validators.h"
#include "train/commands.h"

namespace alexnet::cli {

Command AddBenchInputCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("bench-input", "images/s of the input pipeline vs a 1-thread baseline");
  struct Bench {
    train::DataSpec spec;
    int workers = 2;
    int images = 3000;
    int batch = 128;
  };
  auto b = std::make_shared<Bench>();
  AddDataOptions(cmd, &b->spec);
  cmd->add_option("--workers", b->workers, "loader threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--images", b->images, "timed images")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", b->batch, "batch size")->check(CLI::PositiveNumber)->capture_default_str();
  return {cmd, [b](const CommandLine&) {
            return train::BenchInput(b->spec, b->workers, b->images, b->batch, std::cout);
          }};
}

Command AddExtractCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("extract", "write dataset images as PNG files (to try predict on)");
  auto spec = std::make_shared<train::DataSpec>();
  auto split = std::make_shared<train::Split>(train::Split::kTest);
  auto out = std::make_shared<std::string>("samples");
  auto first = std::make_shared<int>(0), count = std::make_shared<int>(5);
  AddDataOptions(cmd, spec.get());
  AddSplitOption(cmd, split.get(), {train::Split::kTest, train::Split::kTrain}, "test or train");
  cmd->add_option("--first", *first, "index of the first image")->check(kNonNegative)->capture_default_str();
  cmd->add_option("--count", *count, "number of images")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--out", *out, "output folder")->capture_default_str();
  return {cmd, [=](const CommandLine&) {
            spec->val_fraction = 0;
            return train::ExtractImages(*spec, *split, *first, *count, *out, std::cout, std::cerr);
          }};
}

}  // namespace alexnet::cli
