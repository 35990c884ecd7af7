// The subcommands of `alexnet`, one Add*Command each (command.h): it registers the flags and
// returns the call into the library to run. main() lists them in the order of `alexnet --help`.
#pragma once

#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace alexnet::cli {

// model_commands.cpp: the network without data.
Command AddSummaryCommand(CLI::App* app);    // the layer table from the built graph
Command AddTrainStepCommand(CLI::App* app);  // SGD steps on one random batch
Command AddTimeCommand(CLI::App* app);       // forward and backward milliseconds per layer
Command AddGradCheckCommand(CLI::App* app);  // TensorFlow's gradients vs src/reference and finite differences

// train_command.cpp: training, resuming, data-parallel workers.
Command AddTrainCommand(CLI::App* app);

// run_commands.cpp: what reads a trained run.
Command AddEvalCommand(CLI::App* app);
Command AddPredictCommand(CLI::App* app);
Command AddExportCommand(CLI::App* app);

// import_command.cpp: weights trained elsewhere as a run folder.
std::vector<Command> AddImportCommands(CLI::App* app);  // `import caffe`, `import torchvision`

// data_commands.cpp: the input pipeline alone.
Command AddBenchInputCommand(CLI::App* app);
Command AddExtractCommand(CLI::App* app);

// report_commands.cpp: the network explaining itself, over src/report.
Command AddInspectCommand(CLI::App* app);
Command AddFiltersCommand(CLI::App* app);
// `experiment <name>`, one per experiment, and `experiment all`.
std::vector<Command> AddExperimentCommands(CLI::App* app);

}  // namespace alexnet::cli
