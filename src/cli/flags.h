// Flags shared by several subcommands of `alexnet`, each registered in one place.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "model/layers.h"
#include "train/config.h"
#include "train/open_dataset.h"

namespace alexnet::cli {

// --init paper|he, straight into the enum (CLI11's CheckedTransformer refuses anything else).
CLI::Option* AddInitOption(CLI::App* cmd, model::Init* init, const std::string& help);
// --classes and --input-size (summary, train-step; train takes them from the data).
void AddShapeOptions(CLI::App* cmd, model::ModelOptions* o);
// --dropout, --lrn/--no-lrn, --init, --seed, and the layer-table variants --activation and --pool.
void AddModelOptions(CLI::App* cmd, model::ModelOptions* o);
// --activation relu|tanh: the nonlinearity of conv1-conv5, fc6 and fc7.
CLI::Option* AddActivationOption(CLI::App* cmd, model::Activation* activation);
// --architecture alexnet|torchvision into o->architecture; the input size becomes the table's own
// (227, 224) unless --input-size is given. `prefix` starts the help text.
CLI::Option* AddArchitectureOption(CLI::App* cmd, model::ModelOptions* o, const std::string& prefix);
// --pool K/S: window and stride of pool1, pool2 and pool5 (the paper's 3/2 overlaps; 2/2 does not).
CLI::Option* AddPoolOption(CLI::App* cmd, model::ModelOptions* o);
// --data, --list, --fashion-dir, --resize, --crop.
void AddDataOptions(CLI::App* cmd, train::DataSpec* d);
// --lr-schedule plateau|step|cosine|onecycle, straight into the enum.
CLI::Option* AddLrScheduleOption(CLI::App* cmd, train::LrSchedule* schedule);
// --precision fp32|bf16, straight into the enum.
CLI::Option* AddPrecisionOption(CLI::App* cmd, model::Precision* precision, const std::string& help);
// --lrn-kernel alexnet|tensorflow (model/lrn_kernel.h), straight into the enum.
CLI::Option* AddLrnKernelOption(CLI::App* cmd, model::LrnKernel* kernel);
// --split, one of `splits`, straight into the enum.
CLI::Option* AddSplitOption(CLI::App* cmd, train::Split* split, const std::vector<train::Split>& splits,
                            const std::string& help);
// --train-layers a,b,c (fine-tuning: the other layers are frozen), checked against the layers
// with parameters (a bad name is a usage error naming it and listing the valid ones).
CLI::Option* AddTrainLayersOption(CLI::App* cmd, std::vector<std::string>* layers, const std::string& help);
// --run and --checkpoint of the commands that read a trained run.
void AddRunOptions(CLI::App* cmd, std::string* run_dir, std::string* checkpoint);
// --run and --checkpoint, or --model (a SavedModel) instead; returns the usage check "one of them".
std::function<std::string()> AddRunOrModelOptions(CLI::App* cmd, std::string* run_dir, std::string* checkpoint,
                                                  std::string* model_dir);

// The names of the options given on `cmd`'s command line, in the order it declares them (what
// train::TrainOverrides reads: which of them a resumed run may change is train/resume_options.h's).
std::vector<std::string> GivenOptions(const CLI::App& cmd);

// --run RUN for the commands that describe a model without data (summary, time): the model of a
// run folder (its config.json: classes, input size, LRN constants, ...), a trained or an imported
// one. Returns "" or the usage error when --run comes with a flag of AddShapeOptions /
// AddModelOptions, which it replaces.
void AddModelFromRunOption(CLI::App* cmd, std::string* run);
std::string ModelFromRunConflict(const CLI::App& cmd);
// With a run folder: *opts becomes the run's model, keeping opts' precision and LRN kernel (how
// to run it here, not what it is). Without one: nothing.
Status UseRunModel(const std::string& run, model::ModelOptions* opts);

}  // namespace alexnet::cli
