#include "torch/import_torchvision.h"

#include <array>
#include <chrono>
#include <map>
#include <ostream>
#include <set>
#include <vector>

#include "caffe/mapping.h"
#include "data/color_stats.h"
#include "model/layers.h"
#include "torch/state_dict.h"
#include "train/config.h"
#include "train/imported_run.h"
#include "util/files.h"
#include "util/format.h"

namespace alexnet::torch {

namespace {

// torchvision's normalisation, on the 0..1 scale.
constexpr std::array<double, 3> kMean = {0.485, 0.456, 0.406};
constexpr std::array<double, 3> kStd = {0.229, 0.224, 0.225};

// Our layer -> torchvision's module in its state_dict.
const std::map<std::string, std::string>& ModuleOf() {
  static const std::map<std::string, std::string> kModules = {
      {"conv1", "features.0"}, {"conv2", "features.3"},   {"conv3", "features.6"}, {"conv4", "features.8"},
      {"conv5", "features.10"}, {"fc6", "classifier.1"}, {"fc7", "classifier.4"}, {"fc8", "classifier.6"}};
  return kModules;
}

}  // namespace

Result<int64_t> ImportTorchvision(const TorchvisionImportRequest& r, std::ostream& out) {
  const auto start = std::chrono::steady_clock::now();
  ALEXNET_ASSIGN_OR_RETURN(train::ImportStaging staging, train::ImportStaging::Begin(r.run_dir));
  nlohmann::json imported = {{"format", "torchvision"}, {"command", "alexnet import torchvision"}};
  ALEXNET_ASSIGN_OR_RETURN(imported["weights"], train::ImportedFileRecord(r.weights));
  ALEXNET_ASSIGN_OR_RETURN(imported["labels"], train::ImportedFileRecord(r.labels));
  ALEXNET_ASSIGN_OR_RETURN(const std::string labels_text, ReadFile(r.labels));
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<std::string> classes, caffe::ParseLabels(labels_text, r.labels));
  out << "reading " << r.weights << " ..." << std::endl;
  ALEXNET_ASSIGN_OR_RETURN(std::vector<NamedTensor> tensors, ReadStateDict(r.weights));

  // Every name must be torchvision's AlexNet's, and every one of those must be there.
  std::map<std::string, NamedTensor*> by_name;
  for (NamedTensor& t : tensors) by_name[t.name] = &t;
  std::set<std::string> expected;
  for (const auto& [ours, module] : ModuleOf()) {
    expected.insert(module + ".weight");
    expected.insert(module + ".bias");
  }
  for (const auto& [name, t] : by_name) {
    if (!expected.count(name)) {
      return Status::BadInput(r.weights, "holds \"" + name + "\", which torchvision's AlexNet has not (its state_dict " +
                                             "has features.0/3/6/8/10 and classifier.1/4/6, weight and bias)");
    }
  }
  for (const std::string& name : expected) {
    if (!by_name.count(name)) return Status::BadInput(r.weights, "has no \"" + name + "\" (not torchvision's AlexNet)");
  }
  const NamedTensor& fc8 = *by_name.at("classifier.6.weight");
  if (fc8.shape.size() != 2 || fc8.shape[0] < 1) {
    return Status::BadInput(r.weights, "classifier.6.weight of shape " + caffe::ShapeText(fc8.shape) + " (out x 4096 expected)");
  }
  train::TrainConfig config;
  config.model.architecture = model::Architecture::kTorchvision;
  config.model.input_size = model::DefaultInputSize(config.model.architecture);
  config.model.lrn = false;
  config.model.num_classes = static_cast<int>(fc8.shape[0]);
  if (static_cast<int>(classes.size()) != config.model.num_classes) {
    return Status::BadInput(r.labels, std::to_string(classes.size()) + " class names for the network's " +
                                          std::to_string(config.model.num_classes) + " outputs (classifier.6)");
  }
  config.data.source = "";  // ImageNet's images are not here: eval takes --data or --list
  config.data.val_fraction = 0;
  config.data.resize = 256;
  config.data.crop = config.model.input_size;
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<model::LayerShape> shapes, model::ComputeLayerShapes(config.model));

  // Each of our parameters from torchvision's, with its shape checked first.
  const auto value = [&](const std::string& name, tensorflow::Tensor* t) -> Status {
    const std::string layer = name.substr(0, name.find('/'));
    const bool weights = name.substr(name.find('/') + 1) == "weights";
    const std::string theirs = ModuleOf().at(layer) + (weights ? ".weight" : ".bias");
    NamedTensor& src = *by_name.at(theirs);
    const model::LayerShape& row = *std::find_if(shapes.begin(), shapes.end(), [&](const model::LayerShape& s) { return s.spec.name == layer; });
    const bool conv = row.spec.kind == model::LayerKind::kConv;
    const int64_t in = conv ? row.in_c : int64_t(row.in_h) * row.in_w * row.in_c;
    const std::vector<int64_t> want = !weights ? std::vector<int64_t>{row.out_c}
                                      : conv   ? std::vector<int64_t>{row.out_c, row.in_c, row.spec.kernel, row.spec.kernel}
                                               : std::vector<int64_t>{row.out_c, in};
    if (src.shape != want) {
      return Status::BadInput(r.weights, theirs + " has shape " + caffe::ShapeText(src.shape) + "; torchvision's AlexNet's " +
                                             layer + " needs " + caffe::ShapeText(want));
    }
    caffe::Array a{src.shape, std::move(src.values)};
    if (weights && conv) {
      if (row.in_c == 3) {  // conv1: torchvision's normalisation folded in (see the header)
        const int64_t per_channel = row.spec.kernel * row.spec.kernel;
        for (int64_t o = 0; o < row.out_c; ++o) {
          for (int64_t c = 0; c < 3; ++c) {
            float* w = &a.values[static_cast<std::size_t>((o * 3 + c) * per_channel)];
            for (int64_t k = 0; k < per_channel; ++k) w[k] = static_cast<float>(w[k] / (255.0 * kStd[static_cast<std::size_t>(c)]));
          }
        }
      }
      a = caffe::OihwToHwio(a);
    } else if (weights) {
      a = row.in_h > 1 || row.in_w > 1 ? caffe::FullyConnectedFromChw(a, row.in_c, row.in_h, row.in_w)
                                       : caffe::TransposeFullyConnected(a);
    }
    std::copy(a.values.begin(), a.values.end(), t->flat<float>().data());
    return Status::Ok();
  };
  out << "writing the checkpoint ..." << std::endl;
  ALEXNET_ASSIGN_OR_RETURN(const int64_t parameters, staging.WriteCheckpoint(config.model, value));

  data::ColorStats stats;
  stats.size = config.data.resize;
  stats.source = "torchvision's normalisation: mean (0.485, 0.456, 0.406) x 255, 1 / (255 x std) folded into conv1";
  for (std::size_t c = 0; c < 3; ++c) stats.mean_rgb[c] = 255.0 * kMean[c];
  imported["mapping"] = {"convolution weights O x I x H x W -> H x W x I x O",
                         "fc6's inputs reordered from PyTorch's C x H x W flattening of pool5 to our H x W x C",
                         "fully connected weights out x in -> in x out",
                         "normalisation: the mean x 255 subtracted by the pipeline; 1 / (255 x std) of each input "
                         "channel folded into conv1's weights"};
  imported["peak_memory_mib"] = PeakResidentKiB() / 1024;
  config.imported = imported;
  ALEXNET_RETURN_IF_ERROR(staging.Finish(config, classes, stats));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << "imported " << r.weights << " into " << r.run_dir << ": torchvision's AlexNet, " << config.model.num_classes
      << " classes, " << parameters << " parameters, " << FormatFixed(seconds, 1) << " s, peak memory "
      << (PeakResidentKiB() + 512) / 1024 << " MiB\n";
  return parameters;
}

}  // namespace alexnet::torch
