// The subcommands of `alexnet`: each Add*Command registers its flags and returns what to run
// once they are parsed, a call into the library that returns a Status. main() prints a failed
// Status as "alexnet <command>: <message>" and exits 1; CLI11 reports usage errors (exit 2).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "util/status.h"

namespace alexnet::cli {

struct Command {
  CLI::App* app;
  std::function<Status()> run;
};

Command AddSummaryCommand(CLI::App* app);
Command AddTrainCommand(CLI::App* app);
Command AddEvalCommand(CLI::App* app);
Command AddPredictCommand(CLI::App* app);
Command AddExportCommand(CLI::App* app);
Command AddBenchInputCommand(CLI::App* app);
Command AddExtractCommand(CLI::App* app);
Command AddTrainStepCommand(CLI::App* app);
Command AddTimeCommand(CLI::App* app);

}  // namespace alexnet::cli
