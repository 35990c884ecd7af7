#include "train/fine_tune.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/files.h"

namespace alexnet::train {

namespace fs = std::filesystem;

namespace {

// One part of the input convention: the flag that sets it, what it is in a config (as a message
// says it), and how it is taken from the source.
struct Convention {
  const char* flag;  // as a message names it
  const char* given_name;  // as TrainOverrides::given has it
  std::string (*describe)(const TrainConfig& c);
  void (*copy)(const TrainConfig& from, TrainConfig& to);
};

std::string OnOff(bool on) { return on ? "on" : "off"; }

const std::vector<Convention>& Conventions() {
  static const std::vector<Convention> kConventions = {
      {"--architecture", "--architecture",
       [](const TrainConfig& c) { return std::string("the ") + model::ArchitectureName(c.model.architecture) + " table"; },
       [](const TrainConfig& f, TrainConfig& t) { t.model.architecture = f.model.architecture; }},
      {"--resize", "--resize", [](const TrainConfig& c) { return "resize " + std::to_string(c.data.resize); },
       [](const TrainConfig& f, TrainConfig& t) { t.data.resize = f.data.resize; }},
      {"--crop", "--crop", [](const TrainConfig& c) { return "input (crop) " + std::to_string(c.data.crop); },
       [](const TrainConfig& f, TrainConfig& t) { t.data.crop = f.data.crop; }},
      {"--per-pixel-mean", "--per-pixel-mean",
       [](const TrainConfig& c) { return std::string(c.data.per_pixel_mean ? "the per-pixel mean" : "the per-channel mean"); },
       [](const TrainConfig& f, TrainConfig& t) { t.data.per_pixel_mean = f.data.per_pixel_mean; }},
      {"--standardize", "--standardize",
       [](const TrainConfig& c) { return "standardised input " + OnOff(c.model.standardize_input); },
       [](const TrainConfig& f, TrainConfig& t) {
         t.model.standardize_input = f.model.standardize_input;
         t.model.input_stddev = f.model.input_stddev;  // what --standardize divides by (and --init he's conv1)
       }},
      {"--lrn/--no-lrn", "--lrn", [](const TrainConfig& c) { return "LRN " + OnOff(c.model.lrn); },
       [](const TrainConfig& f, TrainConfig& t) {
         t.model.lrn = f.model.lrn;
         t.model.lrn_params = f.model.lrn_params;  // an imported model's may be Caffe's
       }},
      {"--activation", "--activation",
       [](const TrainConfig& c) { return std::string("activation ") + model::ActivationName(c.model.activation); },
       [](const TrainConfig& f, TrainConfig& t) { t.model.activation = f.model.activation; }},
      {"--pool", "--pool", [](const TrainConfig& c) { return "max pooling " + model::PoolText(c.model); },
       [](const TrainConfig& f, TrainConfig& t) {
         t.model.pool_kernel = f.model.pool_kernel;
         t.model.pool_stride = f.model.pool_stride;
       }},
  };
  return kConventions;
}

bool Given(const std::vector<std::string>& given, const std::string& name) {
  return std::find(given.begin(), given.end(), name) != given.end();
}

// The state.json next to a checkpoint prefix (<folder>/model).
Result<TrainState> StateOf(const std::string& prefix) {
  const std::string path = (fs::path(prefix).parent_path() / "state.json").string();
  ALEXNET_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::BadInput(path, "not valid JSON");
  Result<TrainState> state = TrainStateFromJson(j);
  if (!state.ok()) return Status::Error(state.status().code(), path, state.status().reason());
  return state;
}

}  // namespace

std::string JoinNames(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

Result<InitSource> OpenInitSource(const std::string& dir, int threads) {
  if (!fs::is_directory(dir)) return Status::NotFound(dir, "--init-from: no such run folder");
  SessionChoice choice;
  choice.threads = threads;
  choice.precision = model::Precision::kFp32;  // only read: the variables are fp32 in either precision
  Result<std::unique_ptr<TrainedModel>> opened = TrainedModel::Open(dir, "", choice);
  if (!opened.ok()) {
    return Status::Error(opened.status().code(), dir,
                         "--init-from: not a run to start from: " + opened.status().message());
  }
  InitSource source;
  source.dir = dir;
  source.model = std::move(opened).value();
  Result<TrainState> state = StateOf(source.model->checkpoint_prefix());
  if (!state.ok()) return Status::Error(state.status().code(), dir, "--init-from: " + state.status().message());
  source.state = std::move(state).value();
  return source;
}

Status AdoptSourceConvention(const InitSource& source, const std::vector<std::string>& given, TrainConfig* config) {
  const TrainConfig& from = source.model->config();
  for (const Convention& c : Conventions()) {
    if (Given(given, c.given_name) && c.describe(*config) != c.describe(from)) {
      return Status::BadInput("", std::string(c.flag) + " asks for " + c.describe(*config) + ", but --init-from " +
                                      source.dir + " has " + c.describe(from) +
                                      ": a fine-tuned run keeps its source's input convention (leave the flag out)");
    }
    c.copy(from, *config);
  }
  if (!Given(given, "--init")) {  // the layers that start anew start as the source's did
    config->model.init = from.model.init;
    config->model.init_stddev = from.model.init_stddev;
  }
  config->fine_tune.init_from = source.dir;
  config->fine_tune.init_checkpoint = source.model->checkpoint_prefix();
  config->fine_tune.init_step = source.state.step;
  return Status::Ok();
}

data::ColorStats WithSourceMean(data::ColorStats computed, const data::ColorStats& source) {
  computed.mean_rgb = source.mean_rgb;
  computed.mean_image = source.mean_image;  // at the same S: --resize is the source's
  return computed;
}

Status CopyMatchingLayers(const InitSource& source, model::ModelSession* target, std::ostream& out) {
  std::vector<std::pair<std::string, tensorflow::Tensor>> values;
  ALEXNET_RETURN_IF_ERROR(source.model->session()->ReadParameters(&values).With("--init-from " + source.dir));
  std::map<std::string, const tensorflow::Tensor*> by_name;
  for (const auto& [name, value] : values) by_name[name] = &value;
  // A layer is copied when every one of its parameters is in the source with the same shape.
  std::vector<std::string> layers;
  std::map<std::string, std::string> mismatch;  // layer -> why it starts anew
  for (const model::Parameter& p : target->network().parameters) {
    const std::string layer = model::ParameterLayer(p.name);
    if (std::find(layers.begin(), layers.end(), layer) == layers.end()) layers.push_back(layer);
    const auto it = by_name.find(p.name);
    if (it == by_name.end()) {
      mismatch.emplace(layer, "not in " + source.dir);
    } else if (it->second->shape() != p.shape) {
      mismatch.emplace(layer, p.name + " " + p.shape.DebugString() + " here, " + it->second->shape().DebugString() +
                                  " in " + source.dir);
    }
  }
  const int classes_here = target->config().model.num_classes;
  const int classes_there = source.model->config().model.num_classes;
  std::vector<std::pair<std::string, tensorflow::Tensor>> copy;
  std::vector<std::string> copied;
  for (const model::Parameter& p : target->network().parameters) {
    if (mismatch.count(model::ParameterLayer(p.name)) == 0) copy.emplace_back(p.name, *by_name.at(p.name));
  }
  for (const std::string& layer : layers) {
    if (mismatch.count(layer) == 0) copied.push_back(layer);
  }
  ALEXNET_RETURN_IF_ERROR(target->AssignParameters(copy));
  out << "weights from " << source.model->checkpoint_prefix() << " (step " << source.state.step
      << "): " << (copied.empty() ? "none" : JoinNames(copied)) << "\n";
  const std::string last = layers.empty() ? "" : layers.back();
  const std::vector<std::string>& trained = target->config().train_layers;
  for (const std::string& layer : layers) {
    const auto it = mismatch.find(layer);
    if (it == mismatch.end()) continue;
    out << layer << ": new weights ("
        << (layer == last && classes_here != classes_there
                ? std::to_string(classes_here) + " classes here, " + std::to_string(classes_there) + " in " + source.dir
                : it->second)
        << ")" << (model::IsTrained(layer, trained) ? "" : "; note: frozen (not in --train-layers), so it stays random")
        << "\n";
  }
  return Status::Ok();
}

}  // namespace alexnet::train
