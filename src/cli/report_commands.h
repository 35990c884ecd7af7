// The subcommands that make the network explain itself (inspect, filters, experiment) and
// the per-epoch report hook of `alexnet train`. Implemented over the report library; this file
// only parses their flags, dispatches, and turns a failed Status into a message and exit code.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "train/trainer.h"

namespace alexnet::cli {

struct ReportCommands;

// Registers the subcommands on `app`; the returned object holds their parsed options.
std::shared_ptr<ReportCommands> AddReportCommands(CLI::App* app);

// If one of the report subcommands was chosen, runs it, stores its exit status and returns
// true. The status is 0, or 1 after "alexnet <command>: <message>" on stderr (2 for a usage
// error CLI11 cannot see). `argv`: the command line as typed, recorded on the pages written.
bool RunReportCommands(const ReportCommands& commands, const std::vector<std::string>& argv, int* status);

// The arguments joined by spaces, each in single quotes when it holds anything but letters,
// digits and -_./:=,+@% (a ' inside becomes '\''), so the line can be pasted into a shell.
std::string ShellCommandLine(const std::vector<std::string>& argv);

// --standardize of `alexnet train` (the experiments also take --no-standardize).
void AddStandardizeFlag(CLI::App* cmd, bool* standardize);

// What `alexnet train` does at each epoch end for the learner (curves, filter images); problems
// are reported on stderr.
train::EpochHook ReportEpochHook();

}  // namespace alexnet::cli
