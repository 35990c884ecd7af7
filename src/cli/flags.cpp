#include "cli/flags.h"

#include <map>

namespace alexnet::cli {

CLI::Option* AddInitOption(CLI::App* cmd, model::Init* init, const std::string& help) {
  static const std::map<std::string, model::Init> kNames = {{"paper", model::Init::kPaper},
                                                            {"he", model::Init::kHe}};
  return cmd->add_option("--init", *init, help)
      ->transform(CLI::CheckedTransformer(kNames).description(""))
      ->type_name("{paper,he}")
      ->default_str(*init == model::Init::kHe ? "he" : "paper");
}

CLI::Option* AddPrecisionOption(CLI::App* cmd, model::Precision* precision, const std::string& help) {
  static const std::map<std::string, model::Precision> kNames = {{"fp32", model::Precision::kFp32},
                                                                 {"bf16", model::Precision::kBf16}};
  return cmd->add_option("--precision", *precision, help)
      ->transform(CLI::CheckedTransformer(kNames).description(""))
      ->type_name("{fp32,bf16}")
      ->default_str(model::PrecisionName(*precision));
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

void AddShapeOptions(CLI::App* cmd, model::ModelOptions* o) {
  cmd->add_option("--classes", o->num_classes, "number of classes (fc8 units)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--input-size", o->input_size, "input height = width in pixels")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

void AddModelOptions(CLI::App* cmd, model::ModelOptions* o) {
  cmd->add_option("--dropout", o->dropout_rate, "dropout rate on fc6/fc7 (0 = off)")
      ->check(CLI::Range(0.0f, 0.95f))->capture_default_str();
  cmd->add_flag("--lrn,!--no-lrn", o->lrn, "local response normalisation after conv1/conv2 (default: on)");
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

void AddRunOptions(CLI::App* cmd, std::string* run_dir, std::string* checkpoint) {
  cmd->add_option("--run", *run_dir, "run folder written by train")->required();
  cmd->add_option("--checkpoint", *checkpoint, "checkpoint folder or prefix (default: the run's best)");
}

}  // namespace alexnet::cli
