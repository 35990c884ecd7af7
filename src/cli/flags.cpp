#include "cli/flags.h"

#include <map>
#include <set>

namespace alexnet::cli {

namespace {
// --flag NAME, straight into the enum through its table (CLI11's CheckedTransformer refuses any
// other name); the choices and the default are the table's names.
template <typename E, std::size_t N>
CLI::Option* AddEnumOption(CLI::App* cmd, const std::string& flag, E* value, const EnumNames<E, N>& table,
                           const std::string& help) {
  return cmd->add_option(flag, *value, help)
      ->transform(CLI::CheckedTransformer(NameMap(table)).description(""))
      ->type_name(Choices(table))
      ->default_str(NameIn(table, *value));
}
}  // namespace

CLI::Option* AddInitOption(CLI::App* cmd, model::Init* init, const std::string& help) {
  return AddEnumOption(cmd, "--init", init, model::kInitNames, help);
}

CLI::Option* AddPrecisionOption(CLI::App* cmd, model::Precision* precision, const std::string& help) {
  return AddEnumOption(cmd, "--precision", precision, model::kPrecisionNames, help);
}

CLI::Option* AddLrnKernelOption(CLI::App* cmd, model::LrnKernel* kernel) {
  return AddEnumOption(cmd, "--lrn-kernel", kernel, model::kLrnKernelNames,
                       "CPU kernel of the LRN ops: ours, or TensorFlow's (to compare)");
}

CLI::Option* AddLrScheduleOption(CLI::App* cmd, train::LrSchedule* schedule) {
  return AddEnumOption(cmd, "--lr-schedule", schedule, train::kLrScheduleNames,
                       "plateau: /10 when validation top-1 stops improving; step: /10 every --lr-step epochs; "
                       "cosine: every step, from --lr down to near 0 at the last step of --epochs; onecycle: "
                       "every step, from --lr/25 up to --lr over the first 30% of the steps (or --warmup-steps), "
                       "then down to --lr/250000 at the last step (PyTorch's OneCycleLR, cosine-shaped). cosine "
                       "and onecycle span --epochs x steps per epoch, or, with --time-budget and no --epochs, "
                       "the budget: its steps counted once the first steps are timed and once more a quarter of the way "
                       "in (one process)");
}

CLI::Option* AddSplitOption(CLI::App* cmd, train::Split* split, const std::vector<train::Split>& splits,
                            const std::string& help) {
  std::map<std::string, train::Split> names;
  std::string type;
  for (train::Split s : splits) {
    names[train::SplitName(s)] = s;
    type += std::string(type.empty() ? "{" : ",") + train::SplitName(s);
  }
  return cmd->add_option("--split", *split, help)
      ->transform(CLI::CheckedTransformer(names).description(""))
      ->type_name(type + "}")
      ->default_str(train::SplitName(*split));
}

CLI::Option* AddArchitectureOption(CLI::App* cmd, model::ModelOptions* o, const std::string& prefix) {
  CLI::Option* option = AddEnumOption(
      cmd, "--architecture", &o->architecture, model::kArchitectureNames,
      prefix + "the table: alexnet (the seed's, the paper's network) or torchvision (torchvision's one-GPU variant: "
               "64-192-384-256-256 filters, no LRN, input 224 unless --input-size)");
  // Once the values are set: a table given gets its own input size unless one was given (a
  // command's own default, e.g. gradcheck's 67, stays when --architecture is not given).
  cmd->parse_complete_callback([cmd, o, option] {
    const CLI::Option* size = cmd->get_option_no_throw("--input-size");
    if (option->count() > 0 && (size == nullptr || size->count() == 0)) o->input_size = model::DefaultInputSize(o->architecture);
  });
  return option;
}

CLI::Option* AddActivationOption(CLI::App* cmd, model::Activation* activation) {
  return AddEnumOption(cmd, "--activation", activation, model::kActivationNames,
                       "nonlinearity after conv1-conv5, fc6, fc7: relu (the paper's) or tanh");
}

namespace {
// "K/S" with K and S positive integers, e.g. "3/2"; false for anything else.
bool ParsePool(const std::string& text, int* kernel, int* stride) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return false;
  const std::string k = text.substr(0, slash), s = text.substr(slash + 1);
  if (k.find_first_not_of("0123456789") != std::string::npos) return false;
  if (s.find_first_not_of("0123456789") != std::string::npos) return false;
  if (k.size() > 4 || s.size() > 4) return false;  // a window of 10,000 pixels is a typo
  *kernel = std::stoi(k);
  *stride = std::stoi(s);
  return *kernel >= 1 && *stride >= 1;
}
}  // namespace

CLI::Option* AddPoolOption(CLI::App* cmd, model::ModelOptions* o) {
  const CLI::Validator pool_text(
      [](std::string& text) -> std::string {
        int k = 0, s = 0;
        return ParsePool(text, &k, &s) ? "" : "'" + text + "' is not WINDOW/STRIDE, e.g. 3/2 or 2/2";
      },
      "", "Pool");  // no description: the type name K/S says it
  return cmd
      ->add_option_function<std::string>(
          "--pool", [o](const std::string& text) { ParsePool(text, &o->pool_kernel, &o->pool_stride); },
          "max pooling window/stride of pool1, pool2, pool5: 3/2 (the paper's, overlapping) or e.g. 2/2")
      ->check(pool_text)
      ->type_name("K/S")
      ->default_str(model::PoolText(*o));
}

void AddShapeOptions(CLI::App* cmd, model::ModelOptions* o) {
  cmd->add_option("--classes", o->num_classes, "number of classes (fc8 units)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--input-size", o->input_size, "input height = width in pixels")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

void AddModelOptions(CLI::App* cmd, model::ModelOptions* o) {
  AddArchitectureOption(cmd, o, "");
  cmd->add_option("--dropout", o->dropout_rate, "dropout rate on fc6/fc7 (0 = off)")
      ->check(CLI::Range(0.0f, 0.95f))->capture_default_str();
  cmd->add_flag("--lrn,!--no-lrn", o->lrn, "local response normalisation after conv1/conv2 (default: on)");
  AddActivationOption(cmd, &o->activation);
  AddPoolOption(cmd, o);
  AddInitOption(cmd, &o->init, "weight initialisation: paper (N(0, 0.01), biases 1/0) or he");
  cmd->add_option("--seed", o->seed, "random seed (initialisation, data order, augmentation)")
      ->capture_default_str();
}

void AddDataOptions(CLI::App* cmd, train::DataSpec* d) {
  cmd->add_option("--data", d->source,
                  "\"fashion-mnist\" (Debian package dataset-fashion-mnist) or an image folder root/<class>/<image>")
      ->capture_default_str();
  cmd->add_option("--list", d->list_file, "a list file of \"path label\" lines instead of class folders");
  cmd->add_option("--fashion-dir", d->fashion_dir, "where the Fashion-MNIST idx files are")->capture_default_str();
  cmd->add_option("--resize", d->resize, "S: shorter side resized to S, central S x S")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--crop", d->crop, "C: the network's input side (random C x C crop in training)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--strict-decode", d->strict_decode,
                "skip a damaged JPEG (libjpeg's corrupt-data warnings) instead of using it with a warning");
}

void AddModelFromRunOption(CLI::App* cmd, std::string* run) {
  cmd->add_option("--run", *run, "the model of a run folder (its config.json), instead of the model flags");
}

std::string ModelFromRunConflict(const CLI::App& cmd) {
  const CLI::Option* run = cmd.get_option_no_throw("--run");
  if (run == nullptr || run->count() == 0) return "";
  for (const std::string& name : GivenOptions(cmd)) {
    for (const char* model_flag : {"--architecture", "--classes", "--input-size", "--dropout", "--lrn", "--activation", "--pool", "--init", "--seed"}) {
      if (name == model_flag) return name + " describes the model, which --run takes from the run's config.json";
    }
  }
  return "";
}

Status UseRunModel(const std::string& run, model::ModelOptions* opts) {
  if (run.empty()) return Status::Ok();
  ALEXNET_ASSIGN_OR_RETURN(const train::TrainConfig config, train::LoadTrainConfig(run));
  const model::Precision precision = opts->precision;
  const model::LrnKernel lrn_kernel = opts->lrn_kernel;
  *opts = config.model;
  opts->precision = precision;
  opts->lrn_kernel = lrn_kernel;
  return Status::Ok();
}

CLI::Option* AddTrainLayersOption(CLI::App* cmd, std::vector<std::string>* layers, const std::string& help) {
  const CLI::Validator layer_names(
      [](std::string& text) -> std::string {
        const Result<std::vector<std::string>> parsed = model::ParseTrainLayers(text);
        return parsed.ok() ? "" : parsed.status().reason();
      },
      "", "TrainLayers");
  return cmd
      ->add_option_function<std::string>(
          "--train-layers", [layers](const std::string& text) { *layers = *model::ParseTrainLayers(text); }, help)
      ->check(layer_names)
      ->type_name("LAYER,...");
}

namespace {

// --run and --checkpoint, not required; returns --run.
CLI::Option* AddRunAndCheckpoint(CLI::App* cmd, std::string* run_dir, std::string* checkpoint) {
  CLI::Option* run = cmd->add_option("--run", *run_dir, "run folder written by train");
  cmd->add_option("--checkpoint", *checkpoint, "checkpoint folder or prefix (default: the run's best)");
  return run;
}

}  // namespace

void AddRunOptions(CLI::App* cmd, std::string* run_dir, std::string* checkpoint) {
  AddRunAndCheckpoint(cmd, run_dir, checkpoint)->required();
}

std::function<std::string()> AddRunOrModelOptions(CLI::App* cmd, std::string* run_dir, std::string* checkpoint,
                                                  std::string* model_dir) {
  CLI::Option* run = AddRunAndCheckpoint(cmd, run_dir, checkpoint);
  CLI::Option* ckpt = cmd->get_option("--checkpoint");
  cmd->add_option("--model", *model_dir,
                  "a SavedModel folder written by `export --format saved_model` instead of a run (its classes and "
                  "preprocessing come from inside it)")
      ->excludes(run)
      ->excludes(ckpt);
  return [run, model_dir] {
    return run->count() == 0 && model_dir->empty() ? std::string("give either --run RUN_DIR or --model SAVED_MODEL_DIR")
                                                   : std::string();
  };
}

std::vector<std::string> GivenOptions(const CLI::App& cmd) {
  std::vector<std::string> given;
  for (const CLI::Option* o : cmd.get_options()) {
    if (o->count() > 0) given.push_back(o->get_name());
  }
  return given;
}

}  // namespace alexnet::cli
