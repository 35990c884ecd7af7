#include "train/commands.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <random>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/image_folder.h"
#include "data/input_benchmark.h"
#include "model/freeze.h"
#include "model/session.h"
#include "train/evaluate.h"
#include "train/loader_options.h"
#include "train/open_dataset.h"
#include "train/saved_model.h"
#include "util/files.h"
#include "util/format.h"

namespace alexnet::train {

namespace {

nlohmann::json EvalJson(const EvalResult& r) {
  return {{"images", r.images},       {"top1_accuracy", r.top1_accuracy()}, {"top5_accuracy", r.top5_accuracy()},
          {"top1_error", 1 - r.top1_accuracy()}, {"top5_error", 1 - r.top5_accuracy()},
          {"loss", r.mean_loss()},    {"skipped", r.skipped}};
}

std::string EvalLine(const std::string& mode, const EvalResult& r) {
  std::ostringstream line;
  line << "  " << std::left << std::setw(12) << mode << " top-1 error " << FormatFixed(1 - r.top1_accuracy(), 4)
       << "  top-5 error " << FormatFixed(1 - r.top5_accuracy(), 4) << "  (top-1 accuracy "
       << FormatFixed(r.top1_accuracy(), 4) << ", top-5 accuracy " << FormatFixed(r.top5_accuracy(), 4) << ", "
       << r.images << " images" << (r.skipped ? ", " + std::to_string(r.skipped) + " skipped" : "") << ")\n";
  return line.str();
}

// One evaluation mode (centre crop or ten-crop) over the whole split, with its CSV files.
Result<EvalResult> EvaluateMode(Classifier* m, const TrainConfig& cfg, std::shared_ptr<const data::Dataset> ds,
                                bool ten, const EvalRequest& req, const std::string& dir, std::ostream& out) {
  data::LoaderOptions options = EvalLoaderOptions(cfg, m->stats(), ten, req.batch);
  options.preprocess = m->preprocess();  // a SavedModel subtracts the mean itself
  ALEXNET_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(ds, options));
  const PredictFunction predict = [m](const tensorflow::Tensor& images, tensorflow::Tensor* probs) {
    return m->Predict(images, probs);
  };
  ALEXNET_ASSIGN_OR_RETURN(EvalResult r, Evaluate(predict, loader.get(), static_cast<int>(m->class_names().size()),
                                                  EvalProgress::kTerminalOrLog));
  const std::string mode = ten ? "ten-crop" : "centre-crop";
  out << EvalLine(mode, r);
  ALEXNET_RETURN_IF_ERROR(WriteEvalCsv(r, m->class_names(), dir + "/confusion-" + mode + ".csv",
                                       dir + "/per_class-" + mode + ".csv"));
  return r;
}

}  // namespace

Result<std::unique_ptr<Classifier>> OpenClassifier(const std::string& run_dir, const std::string& checkpoint,
                                                   const std::string& model_dir, const SessionChoice& session) {
  std::unique_ptr<Classifier> m;
  if (!model_dir.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(m, SavedModelClassifier::Open(model_dir, session));
  } else {
    ALEXNET_ASSIGN_OR_RETURN(m, TrainedModel::Open(run_dir, checkpoint, session));
  }
  return m;
}

Result<nlohmann::json> EvaluateRun(const EvalRequest& req, std::ostream& out) {
  ALEXNET_ASSIGN_OR_RETURN(auto m, OpenClassifier(req.run_dir, req.checkpoint, req.model_dir, req.session));
  TrainConfig cfg = m->config();
  cfg.run.workers = req.workers;
  if (req.limit > 0) {
    // The first images of the split. The training split stays within the images the run trained
    // on (its own --train-limit), so that "train" means images the network has seen.
    int64_t& limit = req.split == Split::kVal     ? cfg.data.val_limit
                     : req.split == Split::kTrain ? cfg.data.train_limit
                                                  : cfg.data.test_limit;
    limit = limit > 0 && req.split == Split::kTrain ? std::min<int64_t>(limit, req.limit) : req.limit;
  }
  std::shared_ptr<const data::Dataset> ds;
  if (!req.data.empty() || !req.list_file.empty()) {
    data::ImageFolderOptions o;
    o.root = req.data;
    o.list_file = req.list_file;
    o.class_names = m->class_names();
    o.split.val_fraction = 0;
    o.split.subset = data::Subset::kAll;
    o.limit = static_cast<std::size_t>(req.limit);
    o.decode.strict_jpeg = cfg.data.strict_decode;
    ALEXNET_ASSIGN_OR_RETURN(ds, data::ImageFolderDataset::Open(o));
  } else if (cfg.data.source.empty()) {
    return Status::BadInput(req.model_dir.empty() ? req.run_dir : req.model_dir,
                            "the run has no data of its own (it was imported): give the images with --data DIR or "
                            "--list FILE");
  } else {
    ALEXNET_ASSIGN_OR_RETURN(ds, OpenDataset(cfg.data, req.split));
  }
  out << "evaluating " << m->origin() << "\n  on " << ds->description() << " (" << ds->size() << " images)\n";
  nlohmann::json report = {{req.model_dir.empty() ? "checkpoint" : "saved_model", m->origin()},
                           {"data", ds->description()}};
  // A SavedModel's folder stays as exported: its reports go to the current folder.
  const std::string base = req.model_dir.empty() ? req.run_dir + "/" : "";
  const std::string dir = !req.out_dir.empty()                          ? req.out_dir
                          : !req.data.empty() || !req.list_file.empty() ? base + "eval-images"
                                                                        : base + "eval-" + SplitName(req.split);
  ALEXNET_RETURN_IF_ERROR(MakeFolder(dir));
  for (bool ten : {false, true}) {
    if (ten && !req.ten_crop) continue;
    ALEXNET_ASSIGN_OR_RETURN(const EvalResult r, EvaluateMode(m.get(), cfg, ds, ten, req, dir, out));
    report[ten ? "ten-crop" : "centre-crop"] = EvalJson(r);
  }
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(dir + "/eval.json", report.dump(2) + "\n"));
  out << "  per-class accuracy and confusion matrix: " << dir << "/\n";
  return report;
}

int PredictOutcome::failed() const {
  int n = 0;
  for (const Prediction& p : results) n += !p.error.empty();
  return n;
}

Result<PredictOutcome> PredictRun(const PredictRequest& req) {
  ALEXNET_ASSIGN_OR_RETURN(auto m, OpenClassifier(req.run_dir, req.checkpoint, req.model_dir, req.session));
  PredictOutcome o;
  o.class_names = m->class_names();
  const std::vector<std::string> files = ExpandImageInputs(req.inputs, &o.results);
  std::vector<Prediction> predicted = PredictFiles(m.get(), files, req.top, req.batch);
  o.results.insert(o.results.end(), predicted.begin(), predicted.end());
  return o;
}

std::string PredictionsText(const PredictOutcome& o) {
  std::string text;
  for (const Prediction& p : o.results) {
    if (!p.error.empty()) continue;
    text += p.path + "\n";
    for (const auto& [cls, prob] : p.top) text += "  " + FormatFixed(prob, 4) + "  " + o.class_names[cls] + "\n";
  }
  return text;
}

nlohmann::json PredictionsJson(const PredictOutcome& o) {
  nlohmann::json out = nlohmann::json::array();
  for (const Prediction& p : o.results) {
    if (!p.error.empty()) {
      out.push_back({{"path", p.path}, {"error", p.error}});
      continue;
    }
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [cls, prob] : p.top) {
      top.push_back({{"class", o.class_names[cls]}, {"index", cls}, {"probability", prob}});
    }
    out.push_back({{"path", p.path}, {"top", top}});
  }
  return out;
}

Result<std::string> ExportFrozenGraph(const std::string& run_dir, const std::string& checkpoint,
                                      const std::string& output, std::ostream& out) {
  ALEXNET_ASSIGN_OR_RETURN(auto m, TrainedModel::Open(run_dir, checkpoint));
  std::vector<std::pair<std::string, tensorflow::Tensor>> params;
  ALEXNET_RETURN_IF_ERROR(m->session()->ReadParameters(&params));
  ALEXNET_ASSIGN_OR_RETURN(const tensorflow::GraphDef gd, model::FreezeInferenceGraph(m->config().model, params));
  const std::string path = output.empty() ? run_dir + "/alexnet_frozen.pb" : output;
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(path, gd.SerializeAsString()));
  const int c = m->config().data.crop;
  out << "frozen inference graph: " << path << "  (input \"input\" [N, " << c << ", " << c
      << ", 3] float, mean-subtracted RGB 0..255; output \"probabilities\")\n";
  return path;
}

Status ExtractImages(const DataSpec& spec, Split split, int first, int count, const std::string& out_dir,
                     std::ostream& out, std::ostream& skipped) {
  ALEXNET_ASSIGN_OR_RETURN(auto ds, OpenDataset(spec, split));
  ALEXNET_RETURN_IF_ERROR(MakeFolder(out_dir));
  const auto& names = ds->class_names();
  for (int i = first; i < first + count && i < static_cast<int>(ds->size()); ++i) {
    const auto rgb = ds->Load(i);
    if (!rgb.ok()) {
      skipped << rgb.status().message() << "\n";
      continue;
    }
    const std::string path = out_dir + "/" + std::to_string(i) + "_" + FileNameForm(names[ds->label(i)]) + ".png";
    cv::Mat bgr;
    cv::cvtColor(rgb.value(), bgr, cv::COLOR_RGB2BGR);
    if (!cv::imwrite(path, bgr)) return Status::Io(path, "cannot write");
    out << path << "\n";
  }
  return Status::Ok();
}

Status RunTrainSteps(const model::ModelOptions& options, int batch, int steps, float lr, std::ostream& out) {
  // The batch: pixels N(0, 50), about a mean-subtracted photo's spread, and random labels.
  constexpr float kPixelStddev = 50.0f;
  model::SessionConfig cfg;
  cfg.model = options;
  // As the trainer does from the training set's statistics: --init he then scales conv1 to inputs
  // of this spread (or, with standardize_input, the graph divides them by it).
  cfg.model.input_stddev = kPixelStddev;
  cfg.training = true;
  ALEXNET_ASSIGN_OR_RETURN(auto session, model::ModelSession::Create(cfg));
  ALEXNET_RETURN_IF_ERROR(session->Initialize());
  std::mt19937 rng(static_cast<unsigned>(options.seed));
  std::normal_distribution<float> pixel(0.0f, kPixelStddev);
  std::uniform_int_distribution<int> label(0, options.num_classes - 1);
  tensorflow::Tensor images(tensorflow::DT_FLOAT, {batch, options.input_size, options.input_size, 3});
  tensorflow::Tensor labels(tensorflow::DT_INT32, {batch});
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = pixel(rng);
  for (int i = 0; i < batch; ++i) labels.flat<int32_t>()(i) = label(rng);
  for (int step = 1; step <= steps; ++step) {
    model::StepResult r;
    const auto t0 = std::chrono::steady_clock::now();
    ALEXNET_RETURN_IF_ERROR(session->TrainStep(images, labels, lr, &r));
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out << "step " << step << "  loss " << FormatFixed(r.loss, 4) << "  cross-entropy "
        << FormatFixed(r.cross_entropy, 4) << "  top-1 " << r.correct_top1 << "/" << r.batch << "  "
        << FormatFixed(sec * 1000, 1) << " ms  " << FormatFixed(batch / sec, 1) << " images/s\n";
  }
  return Status::Ok();
}

Status BenchInput(const DataSpec& spec, int workers, int images, int batch, std::ostream& out) {
  ALEXNET_ASSIGN_OR_RETURN(auto ds, OpenDataset(spec, Split::kTrain));
  TrainConfig cfg;
  cfg.data = spec;
  cfg.run.workers = workers;
  cfg.recipe.batch = batch;
  data::InputBenchmarkOptions o;
  o.loader = TrainLoaderOptions(cfg, nullptr);
  o.loader.epochs = 0;
  o.images = images;
  ALEXNET_ASSIGN_OR_RETURN(const auto b, data::RunInputBenchmark(ds, o));
  out << ds->description() << "\n"
      << "loader, " << b.workers << " workers: " << FormatFixed(b.images_per_second, 1) << " images/s ("
      << b.images << " images, " << FormatFixed(b.loader_cores_used, 1) << " cores busy)\n"
      << "baseline, 1 thread, no prefetch: " << FormatFixed(b.baseline_images_per_second, 1) << " images/s\n"
      << "ratio loader / baseline: " << FormatFixed(b.speedup, 2) << "x\n";
  return Status::Ok();
}

}  // namespace alexnet::train
