#include "caffe/import_run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <tensorflow/core/framework/tensor.h>

#include "caffe/mapping.h"
#include "data/color_stats.h"
#include "model/layers.h"
#include "model/tf_status.h"
#include "train/config.h"
#include "train/imported_run.h"
#include "util/files.h"
#include "util/format.h"

extern char** environ;

namespace alexnet::caffe {

namespace fs = std::filesystem;

namespace {

// Runs the reader; its one-line error becomes ours. Returns its peak memory from its manifest.
Status RunReader(const CaffeImportRequest& r, const std::string& reader, const std::string& out_dir) {
  std::vector<std::string> args = {reader, "--prototxt", r.prototxt, "--weights", r.weights, "--out", out_dir};
  if (!r.mean_file.empty()) {
    args.push_back("--mean-file");
    args.push_back(r.mean_file);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = out_dir + "/reader.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, reader.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::NotFound(reader, std::string("cannot start the Caffe reader: ") + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  Result<std::string> logged = ReadFile(log);
  std::string message = logged.ok() ? *logged : "";
  // Its own line (anything a library printed before it is dropped).
  const std::string prefix = "alexnet-caffe-read: ";
  const std::size_t line = message.rfind(prefix);
  message = line == std::string::npos ? "" : message.substr(line + prefix.size());
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (message.empty()) {
    message = WIFSIGNALED(status) ? "the Caffe reader died of signal " + std::to_string(WTERMSIG(status))
                                  : "the Caffe reader failed without a message";
    return Status::Internal(reader + ": " + message);
  }
  return Status::BadInput("", message);  // "<file>: <reason>", the file named by the reader
}

Result<nlohmann::json> ReadManifest(const std::string& dir) {
  ALEXNET_ASSIGN_OR_RETURN(const std::string text, ReadFile(dir + "/manifest.json"));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Internal(dir + "/manifest.json: not JSON");
  return j;
}

// Reads `count` floats at float offset `offset` of `path` into `dst`.
Status ReadFloats(std::ifstream& in, const std::string& path, int64_t offset, int64_t count, float* dst) {
  in.seekg(offset * static_cast<int64_t>(sizeof(float)));
  in.read(reinterpret_cast<char*>(dst), count * static_cast<std::streamsize>(sizeof(float)));
  if (!in) return Status::Internal(path + ": shorter than its manifest says");
  return Status::Ok();
}

// The reader's parameters, in the graph's order, one at a time from its file (the file's bytes
// are never all in memory). `manifest` must outlive the function returned.
train::ImportStaging::ParameterValue ReaderParameters(const std::string& reader_dir, const nlohmann::json& manifest) {
  const std::string path = reader_dir + "/" + manifest.at("parameters_file").get<std::string>();
  auto in = std::make_shared<std::ifstream>();  // shared: std::function copies its target
  auto next = std::make_shared<std::size_t>(0);
  return [path, &manifest, in, next](const std::string& name, tensorflow::Tensor* t) -> Status {
    const nlohmann::json& given = manifest.at("parameters");
    const auto dims = t->shape().dim_sizes();  // one object: begin and end of the same vector
    if (*next >= given.size() || given[*next].at("name") != name ||
        given[*next].at("shape").get<std::vector<int64_t>>() != std::vector<int64_t>(dims.begin(), dims.end())) {
      return Status::Internal("the Caffe reader's parameters are not our " + name + " " + t->shape().DebugString());
    }
    if (!in->is_open()) in->open(path, std::ios::binary);
    return ReadFloats(*in, path, given[(*next)++].at("offset").get<int64_t>(), t->NumElements(), t->flat<float>().data());
  };
}

}  // namespace

Result<CaffeImportOutcome> ImportCaffe(const CaffeImportRequest& r, std::ostream& out) {
  const auto start = std::chrono::steady_clock::now();
  if (r.mean_bgr.has_value() == !r.mean_file.empty()) {
    return Status::BadInput("", "give the mean as either --mean-bgr B,G,R or --mean-file FILE");
  }
  std::error_code ec;
  ALEXNET_ASSIGN_OR_RETURN(train::ImportStaging staging, train::ImportStaging::Begin(r.run_dir));
  // Every input, readable, before any work (and their records for config.json).
  nlohmann::json imported = {{"format", "caffe"}, {"command", "alexnet import caffe"}};
  ALEXNET_ASSIGN_OR_RETURN(imported["prototxt"], train::ImportedFileRecord(r.prototxt));
  ALEXNET_ASSIGN_OR_RETURN(imported["weights"], train::ImportedFileRecord(r.weights));
  ALEXNET_ASSIGN_OR_RETURN(imported["labels"], train::ImportedFileRecord(r.labels));
  if (!r.mean_file.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(imported["mean_file"], train::ImportedFileRecord(r.mean_file));
  } else {
    imported["mean_bgr"] = *r.mean_bgr;
  }
  ALEXNET_ASSIGN_OR_RETURN(const std::string labels_text, ReadFile(r.labels));
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<std::string> classes, ParseLabels(labels_text, r.labels));

  const std::string reader_dir = staging.dir() + "/caffe";
  ALEXNET_RETURN_IF_ERROR(MakeFolder(reader_dir));
  std::string reader = r.reader;
  if (reader.empty()) reader = (fs::read_symlink("/proc/self/exe", ec).parent_path() / "alexnet-caffe-read").string();
  out << "reading " << r.weights << " with OpenCV's DNN module ..." << std::endl;
  ALEXNET_RETURN_IF_ERROR(RunReader(r, reader, reader_dir));
  ALEXNET_ASSIGN_OR_RETURN(const nlohmann::json manifest, ReadManifest(reader_dir));

  CaffeImportOutcome outcome;
  outcome.caffemodel_bytes = imported["weights"]["bytes"].get<int64_t>();
  outcome.reader_peak_kib = manifest.value("peak_rss_kib", int64_t{0});
  train::TrainConfig config;
  config.model.num_classes = manifest.at("num_classes").get<int>();
  if (static_cast<int>(classes.size()) != config.model.num_classes) {
    return Status::BadInput(r.labels, std::to_string(classes.size()) + " class names for the network's " +
                                          std::to_string(config.model.num_classes) + " outputs (fc8)");
  }
  const nlohmann::json& lrn = manifest.at("lrn");
  config.model.lrn_params = {lrn.at("depth_radius").get<int>(), lrn.at("bias").get<float>(), lrn.at("alpha").get<float>(),
                             lrn.at("beta").get<float>()};
  config.data.source = "";  // ImageNet's images are not here: eval takes --data or --list
  config.data.val_fraction = 0;
  config.data.resize = 256;
  config.data.crop = config.model.input_size;
  imported["caffe_layers"] = manifest.at("caffe_layers");
  imported["groups"] = manifest.at("groups");
  imported["mapping"] = {
      "conv2, conv4, conv5: Caffe's two towers (group 2) as one convolution with block-diagonal weights",
      "convolution weights O x I x H x W -> H x W x I x O", "conv1's input channels reversed: Caffe reads BGR, we read RGB",
      "fc6's inputs reordered from Caffe's C x H x W flattening of pool5 to our H x W x C",
      "fully connected weights out x in -> in x out",
      "LRN: Caffe's k and alpha / local_size as TensorFlow's bias and alpha"};

  // The mean: per channel (in RGB), or Caffe's mean image as ours.
  data::ColorStats stats;
  stats.size = config.data.resize;
  if (r.mean_bgr) {
    stats.source = "Caffe mean " + nlohmann::json(*r.mean_bgr).dump() + " (B, G, R)";
    stats.mean_rgb = {(*r.mean_bgr)[2], (*r.mean_bgr)[1], (*r.mean_bgr)[0]};
  } else {
    const nlohmann::json& m = manifest.at("mean");
    const int h = m.at("height").get<int>(), w = m.at("width").get<int>();
    if (h != w || h < config.data.crop) {
      return Status::BadInput(r.mean_file, "a mean image of " + std::to_string(h) + " x " + std::to_string(w) +
                                               "; a square of at least " + std::to_string(config.data.crop) +
                                               " x " + std::to_string(config.data.crop) +
                                               " is needed (Caffe's is 256 x 256)");
    }
    config.data.resize = stats.size = h;
    config.data.per_pixel_mean = true;
    stats.mean_image.resize(static_cast<std::size_t>(h) * w * 3);
    std::ifstream in(reader_dir + "/" + m.at("file").get<std::string>(), std::ios::binary);
    ALEXNET_RETURN_IF_ERROR(ReadFloats(in, reader_dir + "/mean.f32", 0, int64_t(stats.mean_image.size()), stats.mean_image.data()));
    std::array<double, 3> sum{};
    for (std::size_t i = 0; i < stats.mean_image.size(); ++i) sum[i % 3] += stats.mean_image[i];
    for (int c = 0; c < 3; ++c) stats.mean_rgb[c] = sum[c] / (static_cast<double>(h) * w);
    stats.source = "Caffe mean image " + fs::path(r.mean_file).filename().string();
  }
  config.imported = imported;

  out << "writing the checkpoint ..." << std::endl;
  ALEXNET_ASSIGN_OR_RETURN(outcome.parameters,
                           staging.WriteCheckpoint(config.model, ReaderParameters(reader_dir, manifest)));
  fs::remove_all(reader_dir, ec);
  outcome.writer_peak_kib = PeakResidentKiB();
  config.imported["peak_memory_mib"] = {{"reader", outcome.reader_peak_kib / 1024}, {"writer", outcome.writer_peak_kib / 1024}};
  ALEXNET_RETURN_IF_ERROR(staging.Finish(config, classes, stats));
  outcome.num_classes = config.model.num_classes;
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto mib = [](int64_t kib) { return std::to_string((kib + 512) / 1024) + " MiB"; };
  out << "imported " << r.weights << " into " << r.run_dir << ": " << outcome.num_classes << " classes, "
      << outcome.parameters << " parameters, " << FormatFixed(outcome.seconds, 1) << " s\n"
      << "peak memory: reader " << mib(outcome.reader_peak_kib) << ", writer " << mib(outcome.writer_peak_kib)
      << " (the caffemodel is " << mib(outcome.caffemodel_bytes / 1024) << ")\n";
  return outcome;
}

}  // namespace alexnet::caffe
