// The subcommands that make the network explain itself (inspect, filters, experiment) and
// the per-epoch report hook of `alexnet train`. Implemented over the report library.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "train/trainer.h"

namespace alexnet::cli {

struct ReportCommands;

// Registers the subcommands on `app`; the returned object holds their parsed options.
std::shared_ptr<ReportCommands> AddReportCommands(CLI::App* app);

// If one of the report subcommands was chosen, runs it, stores its exit status and returns true.
bool RunReportCommands(const ReportCommands& commands, int* status);

// --standardize, shared by `alexnet train` and `alexnet experiment dropout`.
void AddStandardizeFlag(CLI::App* cmd, bool* standardize);

// What `alexnet train` does at each epoch end for the learner (curves, filter images).
train::EpochHook ReportEpochHook();

}  // namespace alexnet::cli
