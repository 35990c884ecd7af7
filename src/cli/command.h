// One subcommand of `alexnet`, as an entry of Caffe's brew map: an Add*Command function
// (commands.h) registers its flags on a CLI::App and returns what to run once they are parsed,
// a call into the library that returns a Status. main() runs the one chosen and is the one place
// a Status becomes a message "alexnet <name>: <message>" and an exit status (0, 1; 2 for a usage
// error, as CLI11's own).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "util/status.h"

namespace alexnet::cli {

// The command line as main received it: what `train --local-workers` starts its workers with,
// and what inspect and the experiments record on the pages they write.
struct CommandLine {
  std::vector<std::string> argv;  // argv[0] included
  std::string shell;              // ShellCommandLine(argv)
};

struct Command {
  CLI::App* app;  // the subcommand (for `experiment relu`, the nested one), chosen when *app is true
  std::function<Status(const CommandLine&)> run;
  // The name in the messages, when not the subcommand's own ("experiment", "experiment all").
  std::string name = "";
  // Optional: a usage error CLI11 cannot see (inspect: "give either --run RUN_DIR or
  // --untrained"), checked before run; "" when there is none.
  std::function<std::string()> usage_error = nullptr;
};

// The arguments joined by spaces, each in single quotes when it holds anything but letters,
// digits and -_./:=,+@% (a ' inside becomes '\''), so the line can be pasted into a shell.
std::string ShellCommandLine(const std::vector<std::string>& argv);

}  // namespace alexnet::cli
