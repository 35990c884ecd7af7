// What `alexnet train --resume` may change: one table, read by the flags (which given options a
// note names as not used) and by the trainer (which values it takes from the new command line).
// Every other option is the run's own, in its config.json: its data, model and recipe.
#pragma once

#include <string>
#include <vector>

#include "train/config.h"

namespace alexnet::train {

struct ResumeOption {
  const char* flag;  // as on the command line: "--epochs"
  // Copies the option's value from the new command line's config into the run's; nullptr for a
  // flag with nothing in TrainConfig to copy (--run, --resume, --local-workers, ...).
  void (*take)(const TrainConfig& given, TrainConfig& run);
  // Taken from each command line, given or not (its default then): how this session runs, never
  // the run's (--workers, --threads, the cluster), and not written to config.json when resuming.
  bool every_session;
};

// The table, in the order `train --help` lists the options.
const std::vector<ResumeOption>& ResumeOptions();

// What the command line of a (resumed) run gave: the names of the options given, in order.
struct TrainOverrides {
  std::vector<std::string> given;

  bool Given(const std::string& flag) const;
  // Given options that a resumed run cannot change (not in the table): named in a note that they
  // are not used, rather than silently ignored in favour of config.json.
  std::vector<std::string> Fixed() const;
  // Whether a given option changes what config.json records (so it is written again).
  bool Any() const;
};

// The run's saved config with what `overrides` gave taken from `given`, and the every-session
// options always.
TrainConfig ApplyResumeOptions(TrainConfig run, const TrainConfig& given, const TrainOverrides& overrides);

}  // namespace alexnet::train
