#include "train/saved_model.h"

#include <filesystem>
#include <sstream>
#include <utility>

#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/cc/saved_model/loader.h>
#include <tensorflow/core/protobuf/meta_graph.pb.h>
#include <tensorflow/core/protobuf/saved_model.pb.h>

#include "model/freeze.h"
#include "model/precision.h"
#include "model/session_options.h"
#include "model/tf_status.h"
#include "util/files.h"

namespace alexnet::train {

namespace fs = std::filesystem;

namespace {

constexpr char kClassesAsset[] = "classes.txt";
constexpr char kPreprocessingAsset[] = "preprocessing.json";
constexpr char kSignature[] = "serving_default";
constexpr char kInput[] = "images";
constexpr char kProbabilities[] = "probabilities";
constexpr char kTopClass[] = "top_class";

std::string WithoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// What the graph subtracts from the 0..255 crops: the run's per-channel mean [3], or the centre
// crop of its per-pixel mean image [C, C, 3]; the same floats the run's own preprocessing uses.
tensorflow::Tensor MeanTensor(const data::Normalization& norm, int crop) {
  if (norm.mode != data::MeanMode::kPerPixel) {
    tensorflow::Tensor mean(tensorflow::DT_FLOAT, {3});
    for (int ch = 0; ch < 3; ++ch) mean.flat<float>()(ch) = norm.mode == data::MeanMode::kNone ? 0.0f : norm.mean_rgb[ch];
    return mean;
  }
  tensorflow::Tensor mean(tensorflow::DT_FLOAT, {crop, crop, 3});
  const data::CropSpec at = data::CenterCrop(norm.size, crop);
  float* out = mean.flat<float>().data();
  for (int y = 0; y < crop; ++y) {
    const float* row = norm.mean_image + (static_cast<size_t>(y + at.y) * norm.size + at.x) * 3;
    std::copy(row, row + static_cast<size_t>(crop) * 3, out + static_cast<size_t>(y) * crop * 3);
  }
  return mean;
}

const char* MeanModeName(data::MeanMode mode) {
  switch (mode) {
    case data::MeanMode::kPerChannel: return "per-channel";
    case data::MeanMode::kPerPixel: return "per-pixel";
    case data::MeanMode::kNone: return "none";
  }
  return "none";
}

nlohmann::json PreprocessingRecord(TrainedModel* m) {
  const TrainConfig& cfg = m->config();
  const data::Normalization& norm = m->normalization();
  nlohmann::json mean = {{"mode", MeanModeName(norm.mode)}, {"graph_node", "mean"}};
  if (norm.mode == data::MeanMode::kPerChannel) mean["rgb"] = norm.mean_rgb;
  if (norm.mode == data::MeanMode::kPerPixel) {
    mean["about"] = "the centre crop x crop of the resize x resize per-pixel mean image, in the graph";
  }
  return {
      {"format", kSavedModelFormat},
      {"version", 1},
      {"input", "images: float [N, crop, crop, 3], RGB 0..255: shorter side resized to `resize`, the central "
                "resize x resize square, its central crop x crop; the graph subtracts the mean and scales"},
      {"resize", cfg.data.resize},
      {"crop", cfg.data.crop},
      {"mean", mean},
      {"input_scale", cfg.model.standardize_input ? 1.0f / cfg.model.input_stddev : 1.0f},
      {"classes", cfg.model.num_classes},
      {"decode", {{"max_pixels", cfg.data.max_pixels}, {"strict_jpeg", cfg.data.strict_decode}}},
      {"source", {{"checkpoint", m->checkpoint_prefix()}}},
      {"run_config", ToJson(cfg)},
  };
}

tensorflow::TensorInfo Info(const std::string& node, tensorflow::DataType type, const std::vector<int64_t>& dims) {
  tensorflow::TensorInfo info;
  info.set_name(node + ":0");
  info.set_dtype(type);
  for (int64_t d : dims) info.mutable_tensor_shape()->add_dim()->set_size(d);
  return info;
}

Result<tensorflow::SavedModel> SavedModelProto(TrainedModel* m) {
  const TrainConfig& cfg = m->config();
  const int c = cfg.data.crop;
  if (cfg.model.input_size != c) {
    return Status::BadInput(m->checkpoint_prefix(), "the network's input is " + std::to_string(cfg.model.input_size) +
                                                        " but the run's crop is " + std::to_string(c));
  }
  std::vector<std::pair<std::string, tensorflow::Tensor>> params;
  ALEXNET_RETURN_IF_ERROR(m->session()->ReadParameters(&params));
  ALEXNET_ASSIGN_OR_RETURN(tensorflow::GraphDef graph,
                           model::FreezeServingGraph(cfg.model, params, MeanTensor(m->normalization(), c)));
  // The asset files' names as string constants: a loader feeds their paths in its own folder.
  tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  tensorflow::ops::Const(root.WithOpName("asset_classes"), std::string(kClassesAsset));
  tensorflow::ops::Const(root.WithOpName("asset_preprocessing"), std::string(kPreprocessingAsset));
  tensorflow::GraphDef assets;
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&assets));
  for (const tensorflow::NodeDef& node : assets.node()) *graph.add_node() = node;

  tensorflow::SavedModel saved;
  saved.set_saved_model_schema_version(1);
  tensorflow::MetaGraphDef* meta = saved.add_meta_graphs();
  meta->mutable_meta_info_def()->add_tags("serve");
  meta->mutable_meta_info_def()->set_tensorflow_version(ALEXNET_TENSORFLOW_VERSION);
  *meta->mutable_graph_def() = std::move(graph);
  for (const auto& [node, file] : {std::pair{"asset_classes", kClassesAsset}, {"asset_preprocessing", kPreprocessingAsset}}) {
    tensorflow::AssetFileDef* asset = meta->add_asset_file_def();
    *asset->mutable_tensor_info() = Info(node, tensorflow::DT_STRING, {});
    asset->set_filename(file);
  }
  tensorflow::SignatureDef& sig = (*meta->mutable_signature_def())[kSignature];
  sig.set_method_name("tensorflow/serving/predict");
  (*sig.mutable_inputs())[kInput] = Info(kInput, tensorflow::DT_FLOAT, {-1, c, c, 3});
  (*sig.mutable_outputs())[kProbabilities] = Info(kProbabilities, tensorflow::DT_FLOAT, {-1, cfg.model.num_classes});
  (*sig.mutable_outputs())[kTopClass] = Info(kTopClass, tensorflow::DT_INT64, {-1});
  return saved;
}

// Removes the staging folder unless the export completed.
struct StagingGuard {
  std::string dir;
  bool done = false;
  ~StagingGuard() {
    std::error_code ec;
    if (!done) fs::remove_all(dir, ec);
  }
};

Status Rename(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return Status::Io(to.string(), "cannot rename " + from.string() + " to it: " + ec.message());
  return Status::Ok();
}

}  // namespace

Status WriteSavedModel(TrainedModel* m, const std::string& output_path, bool overwrite) {
  const std::string output = WithoutTrailingSlash(output_path);
  std::error_code ec;
  const bool exists = fs::exists(output, ec);
  if (exists && !fs::is_directory(output, ec)) return Status::BadInput(output, "exists and is not a folder");
  if (exists && !fs::is_empty(output, ec) && !overwrite) {
    return Status::BadInput(output, "is not empty; give --overwrite to replace it");
  }
  ALEXNET_ASSIGN_OR_RETURN(const tensorflow::SavedModel saved, SavedModelProto(m));
  StagingGuard staging{output + ".exporting"};
  fs::remove_all(staging.dir, ec);  // left by an export that was killed
  ALEXNET_RETURN_IF_ERROR(MakeFolder(staging.dir + "/assets"));
  std::string classes;
  for (const std::string& name : m->class_names()) classes += name + "\n";
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(staging.dir + "/assets/" + kClassesAsset, classes));
  ALEXNET_RETURN_IF_ERROR(
      WriteFileAtomic(staging.dir + "/assets/" + kPreprocessingAsset, PreprocessingRecord(m).dump(2) + "\n"));
  std::string bytes;
  if (!saved.SerializeToString(&bytes)) return Status::Internal("cannot serialise the SavedModel");
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(staging.dir + "/saved_model.pb", bytes));
  ALEXNET_RETURN_IF_ERROR(SyncDirectory(staging.dir));
  if (exists) {
    // Moved aside first, so that `output` is always either the old SavedModel or the new one.
    const std::string replaced = output + ".replaced";
    fs::remove_all(replaced, ec);
    ALEXNET_RETURN_IF_ERROR(Rename(output, replaced));
    ALEXNET_RETURN_IF_ERROR(Rename(staging.dir, output));
    fs::remove_all(replaced, ec);
  } else {
    const fs::path parent = fs::path(output).parent_path();
    if (!parent.empty()) ALEXNET_RETURN_IF_ERROR(MakeFolder(parent.string()));
    ALEXNET_RETURN_IF_ERROR(Rename(staging.dir, output));
  }
  staging.done = true;
  const fs::path parent = fs::path(output).parent_path();
  return SyncDirectory(parent.empty() ? "." : parent.string());
}

Result<std::string> ExportSavedModel(const std::string& run_dir, const std::string& checkpoint,
                                     const std::string& output, bool overwrite, std::ostream& out) {
  ALEXNET_ASSIGN_OR_RETURN(auto m, TrainedModel::Open(run_dir, checkpoint));
  const std::string dir = WithoutTrailingSlash(output.empty() ? run_dir + "/saved_model/1" : output);
  ALEXNET_RETURN_IF_ERROR(WriteSavedModel(m.get(), dir, overwrite));
  const int c = m->config().data.crop;
  out << "SavedModel: " << dir << "  (tag serve, signature serving_default: input \"images\" [N, " << c << ", "
      << c << ", 3] float RGB 0..255 centre crops; outputs \"probabilities\" [N, " << m->config().model.num_classes
      << "], \"top_class\" [N]; classes and preprocessing in assets/)\n";
  return dir;
}

SavedModelClassifier::~SavedModelClassifier() = default;

Result<std::unique_ptr<SavedModelClassifier>> SavedModelClassifier::Open(const std::string& dir_path,
                                                                         const SessionChoice& choice) {
  std::unique_ptr<SavedModelClassifier> m(new SavedModelClassifier());
  m->dir_ = WithoutTrailingSlash(dir_path);
  const std::string& dir = m->dir_;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir, "no such folder");
  if (!tensorflow::MaybeSavedModelDirectory(dir)) {
    return Status::BadInput(dir, "not a SavedModel (no saved_model.pb)");
  }
  // Our assets first: they say whether this is one of ours before the graph is loaded.
  const std::string record_path = dir + "/assets/" + kPreprocessingAsset;
  if (!fs::exists(record_path, ec)) {
    return Status::BadInput(dir, std::string("has no assets/") + kPreprocessingAsset +
                                     ": not a SavedModel written by `alexnet export --format saved_model`");
  }
  ALEXNET_ASSIGN_OR_RETURN(const std::string text, ReadFile(record_path));
  ALEXNET_ASSIGN_OR_RETURN(ServingRecord record, ParseServingRecord(text, record_path));
  m->config_ = std::move(record.config);
  const int classes = record.classes;
  const std::string classes_path = dir + "/assets/" + kClassesAsset;
  ALEXNET_ASSIGN_OR_RETURN(const std::string names, ReadFile(classes_path));
  std::istringstream lines(names);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) m->classes_.push_back(line);
  }
  if (static_cast<int>(m->classes_.size()) != classes) {
    return Status::BadInput(classes_path, std::to_string(m->classes_.size()) + " names for " + std::to_string(classes) +
                                              " classes (" + kPreprocessingAsset + ")");
  }

  const tensorflow::SessionOptions so = model::BaseSessionOptions(
      choice.threads, model::UsablePrecision(choice.precision.value_or(model::Precision::kFp32)));
  m->bundle_ = std::make_unique<tensorflow::SavedModelBundle>();
  const absl::Status loaded = tensorflow::LoadSavedModel(so, tensorflow::RunOptions(), dir, {"serve"}, m->bundle_.get());
  if (!loaded.ok()) return Status::BadInput(dir, "TensorFlow cannot load it: " + std::string(loaded.message()));

  const auto& signatures = m->bundle_->meta_graph_def.signature_def();
  const auto sig = signatures.find(kSignature);
  if (sig == signatures.end()) {
    std::string have;
    for (const auto& [name, unused] : signatures) have += (have.empty() ? "" : ", ") + name;
    return Status::BadInput(dir, std::string("no signature \"") + kSignature + "\" (it has: " +
                                     (have.empty() ? "none" : have) + ")");
  }
  const int c = m->config_.data.crop;
  const auto input = sig->second.inputs().find(kInput);
  const auto output = sig->second.outputs().find(kProbabilities);
  const auto dims = [](const tensorflow::TensorInfo& t) {
    std::vector<int64_t> d;
    for (const auto& dim : t.tensor_shape().dim()) d.push_back(dim.size());
    return d;
  };
  if (input == sig->second.inputs().end() || input->second.dtype() != tensorflow::DT_FLOAT ||
      dims(input->second) != std::vector<int64_t>{-1, c, c, 3}) {
    return Status::BadInput(dir, std::string("signature ") + kSignature + " has no input \"" + kInput +
                                     "\" float [N, " + std::to_string(c) + ", " + std::to_string(c) + ", 3]");
  }
  if (output == sig->second.outputs().end() || output->second.dtype() != tensorflow::DT_FLOAT ||
      dims(output->second) != std::vector<int64_t>{-1, classes}) {
    return Status::BadInput(dir, std::string("signature ") + kSignature + " has no output \"" + kProbabilities +
                                     "\" float [N, " + std::to_string(classes) + "]");
  }
  m->input_tensor_ = input->second.name();
  m->output_tensor_ = output->second.name();
  return m;
}

data::PreprocessOptions SavedModelClassifier::preprocess() const {
  data::PreprocessOptions p;
  p.resize = config_.data.resize;
  p.crop = config_.data.crop;
  p.mean = data::MeanMode::kNone;  // the graph subtracts it
  return p;
}

Status SavedModelClassifier::Predict(const tensorflow::Tensor& images, tensorflow::Tensor* probabilities) {
  std::vector<tensorflow::Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(bundle_->session->Run({{input_tensor_, images}}, {output_tensor_}, {}, &out));
  *probabilities = out[0];
  return Status::Ok();
}

}  // namespace alexnet::train
