// import: weights trained elsewhere as a run folder (docs/imagenet.md).
#include <iostream>
#include <memory>
#include <vector>

#include "caffe/import_run.h"
#include "cli/commands.h"
#include "torch/import_torchvision.h"

namespace alexnet::cli {

Command AddImportCaffeCommand(CLI::App* import);

namespace {

Command AddImportTorchvisionCommand(CLI::App* import) {
  auto* cmd = import->add_subcommand("torchvision", "torchvision's AlexNet (a state_dict: .pth or .safetensors) as a run "
                                                   "folder of the torchvision table");
  auto r = std::make_shared<torch::TorchvisionImportRequest>();
  cmd->add_option("--weights", r->weights,
                  "the state_dict: torch.save's file (zip or the older format, e.g. alexnet-owt-7be5be79.pth) or .safetensors")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--labels", r->labels, "class names, one a line (imagenet_classes.txt)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run", r->run_dir, "the run folder to create")->required();
  return {cmd, [r](const CommandLine&) { return torch::ImportTorchvision(*r, std::cout).status(); }, "import torchvision"};
}

}  // namespace

std::vector<Command> AddImportCommands(CLI::App* app) {
  auto* import = app->add_subcommand("import", "weights trained elsewhere as a run folder (Caffe's, torchvision's AlexNet)");
  import->require_subcommand(1);
  std::vector<Command> commands = {AddImportCaffeCommand(import), AddImportTorchvisionCommand(import)};
  return commands;
}

Command AddImportCaffeCommand(CLI::App* import) {
  auto* cmd = import->add_subcommand("caffe", "Caffe's AlexNet (deploy.prototxt + .caffemodel) as a run folder");
  auto r = std::make_shared<caffe::CaffeImportRequest>();
  auto mean = std::make_shared<std::vector<float>>();
  cmd->add_option("--prototxt", r->prototxt, "the network (deploy.prototxt); must be the seed table's AlexNet")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--weights", r->weights, "its weights (bvlc_alexnet.caffemodel; Caffe's current or V1 format)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--labels", r->labels, "class names: synset_words.txt (\"n01440764 tench, Tinca tinca\") or one a line")
      ->required()->check(CLI::ExistingFile);
  auto* mean_bgr = cmd->add_option("--mean-bgr", *mean, "per-channel mean in Caffe's order B,G,R (0..255): 104,117,123")
                       ->delimiter(',')->expected(3);
  auto* mean_file = cmd->add_option("--mean-file", r->mean_file, "Caffe's mean image (imagenet_mean.binaryproto)")
                        ->check(CLI::ExistingFile);
  mean_bgr->excludes(mean_file);
  cmd->add_option("--run", r->run_dir, "the run folder to create")->required();
  return {cmd,
          [r, mean](const CommandLine&) -> Status {
            if (!mean->empty()) r->mean_bgr = std::array<float, 3>{(*mean)[0], (*mean)[1], (*mean)[2]};
            return caffe::ImportCaffe(*r, std::cout).status();
          },
          "import caffe",
          [mean_bgr, mean_file] {
            return mean_bgr->count() + mean_file->count() == 0 ? "give the mean: --mean-bgr B,G,R or --mean-file FILE"
                                                              : "";
          }};
}

}  // namespace alexnet::cli
