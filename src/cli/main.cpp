// alexnet: AlexNet from TensorFlow's C++ building blocks, fed by an OpenCV pipeline.
//   summary      the seed's table from the built graph: shapes, parameters, MACs
//   train        train on an image folder or Fashion-MNIST (paper recipe), resumable
//   eval         top-1/top-5 error (centre crop, ten-crop), per-class accuracy, confusion
//   predict      top-5 classes of image files or folders
//   export       frozen inference graph (.pb) or SavedModel
//   import       Caffe's bvlc_alexnet or torchvision's AlexNet as a run folder
//   bench-input  throughput of the input pipeline
//   extract      dataset images as PNG files
//   train-step   SGD steps on one random batch (a smoke test of the training graph)
//   time         forward and backward milliseconds per layer
//   gradcheck    TensorFlow's gradients vs the hand-written backward pass and finite differences
//   inspect, filters, experiment   the network explaining itself
// Every subcommand is a Command (command.h, commands.h). This file only parses and runs the one
// chosen, and is the one place a Status becomes a message and an exit status: 0; 1 after
// "alexnet <command>: <message>"; 2 for a usage error.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/quiet_start.h"
#include "model/heap.h"

int main(int argc, char** argv) {
  alexnet::cli::EndQuietStart(argv);
  alexnet::model::KeepFreedMemoryForReuse();  // before any thread starts (model/heap.h)
  CLI::App app{"AlexNet in C++ from TensorFlow building blocks, step by step"};
  app.require_subcommand(1);
  app.fallthrough();  // --verbose may follow the subcommand
  bool verbose = false;  // acted on before main (quiet_start.cpp); registered so CLI11 accepts it
  app.add_flag("--verbose", verbose, "show TensorFlow's own log messages (also: TF_CPP_MIN_LOG_LEVEL=0)");
  namespace cli = alexnet::cli;
  std::vector<cli::Command> commands = {
      cli::AddSummaryCommand(&app),     cli::AddTrainCommand(&app),   cli::AddEvalCommand(&app),
      cli::AddPredictCommand(&app),     cli::AddExportCommand(&app),  cli::AddBenchInputCommand(&app),
      cli::AddExtractCommand(&app),     cli::AddTrainStepCommand(&app), cli::AddTimeCommand(&app),
      cli::AddGradCheckCommand(&app),   cli::AddInspectCommand(&app),   cli::AddFiltersCommand(&app)};
  for (cli::Command& c : cli::AddImportCommands(&app)) commands.push_back(std::move(c));
  for (cli::Command& c : cli::AddExperimentCommands(&app)) commands.push_back(std::move(c));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "alexnet: " << e.what() << "\n\n" << app.help();
    return 2;
  }
  cli::CommandLine line;
  line.argv.assign(argv, argv + argc);
  line.shell = cli::ShellCommandLine(line.argv);
  for (const cli::Command& c : commands) {
    if (!*c.app) continue;
    const std::string name = c.name.empty() ? c.app->get_name() : c.name;
    if (const std::string usage = c.usage_error ? c.usage_error() : ""; !usage.empty()) {
      std::cerr << "alexnet " << name << ": " << usage << "\n";
      return 2;
    }
    const alexnet::Status st = c.run(line);
    if (st.ok()) return 0;
    std::cerr << "alexnet " << name << ": " << st.message() << "\n";
    return 1;
  }
  return 2;
}
