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
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <tensorflow/core/platform/env.h>
#include <tensorflow/core/util/tensor_bundle/tensor_bundle.h>

#include "caffe/mapping.h"
#include "data/color_stats.h"
#include "model/layers.h"
#include "model/tf_status.h"
#include "train/config.h"
#include "train/train_state.h"
#include "util/files.h"
#include "util/format.h"

extern char** environ;

namespace alexnet::caffe {

namespace fs = std::filesystem;

namespace {

// Removes the staging folder unless the import got to the end.
class StagingFolder {
 public:
  explicit StagingFolder(std::string dir) : dir_(std::move(dir)) {}
  ~StagingFolder() {
    if (!kept_) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
  void Keep() { kept_ = true; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool kept_ = false;
};

Result<std::string> Sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(ErrnoCode(errno), path, "cannot open");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, digest, &n);
  EVP_MD_CTX_free(ctx);
  if (in.bad()) return Status::Io(path, "read failed");
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

// {"file": name, "bytes": size, "sha256": ...} of an input file (path as given in "path").
Result<nlohmann::json> FileRecord(const std::string& path) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) return Status::Error(ErrnoCode(ec.value()), path, "cannot read: " + ec.message());
  ALEXNET_ASSIGN_OR_RETURN(const std::string sha, Sha256(path));
  return nlohmann::json{{"path", path}, {"file", fs::path(path).filename().string()}, {"bytes", bytes}, {"sha256", sha}};
}

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

// Our parameter names and shapes, from the table (graph.cpp builds the same).
std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedParameters(const std::vector<model::LayerShape>& shapes) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> p;
  for (const model::LayerShape& s : shapes) {
    const std::string name = s.spec.name;
    if (s.spec.kind == model::LayerKind::kConv) {
      p.push_back({name + "/weights", {s.spec.kernel, s.spec.kernel, s.in_c, s.out_c}});
    } else if (s.spec.kind == model::LayerKind::kFullyConnected) {
      p.push_back({name + "/weights", {int64_t(s.in_h) * s.in_w * s.in_c, s.out_c}});
    } else {
      continue;
    }
    p.push_back({name + "/biases", {s.out_c}});
  }
  return p;
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

// The checkpoint: every parameter, one at a time (the file's bytes are never all in memory).
Status WriteCheckpoint(const std::string& reader_dir, const nlohmann::json& manifest,
                       const model::ModelOptions& opts, const std::string& prefix, int64_t* parameters) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<model::LayerShape> shapes, model::ComputeLayerShapes(opts));
  const auto expected = ExpectedParameters(shapes);
  const nlohmann::json& given = manifest.at("parameters");
  if (given.size() != expected.size()) return Status::Internal("the Caffe reader wrote the wrong number of parameters");
  const std::string path = reader_dir + "/" + manifest.at("parameters_file").get<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Internal(path + ": cannot open");
  tensorflow::BundleWriter writer(tensorflow::Env::Default(), prefix);
  ALEXNET_RETURN_IF_TF_ERROR(writer.status());
  *parameters = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, shape] = expected[i];
    if (given[i].at("name") != name || given[i].at("shape").get<std::vector<int64_t>>() != shape) {
      return Status::Internal("the Caffe reader's " + given[i].at("name").get<std::string>() + " is not our " + name +
                              " " + ShapeText(shape));
    }
    tensorflow::Tensor t(tensorflow::DT_FLOAT, tensorflow::TensorShape(shape));
    ALEXNET_RETURN_IF_ERROR(
        ReadFloats(in, path, given[i].at("offset").get<int64_t>(), t.NumElements(), t.flat<float>().data()));
    ALEXNET_RETURN_IF_TF_ERROR(writer.Add(name, t));
    *parameters += t.NumElements();
  }
  return model::FromTf(writer.Finish(), prefix);
}

}  // namespace

Result<CaffeImportOutcome> ImportCaffe(const CaffeImportRequest& r, std::ostream& out) {
  const auto start = std::chrono::steady_clock::now();
  if (r.mean_bgr.has_value() == !r.mean_file.empty()) {
    return Status::BadInput("", "give the mean as either --mean-bgr B,G,R or --mean-file FILE");
  }
  std::error_code ec;
  if (fs::exists(r.run_dir, ec)) {
    return Status::BadInput(r.run_dir, "exists already; the import writes a new run folder (remove it or choose another --run)");
  }
  // Every input, readable, before any work (and their records for config.json).
  nlohmann::json imported = {{"format", "caffe"}, {"command", "alexnet import caffe"}};
  ALEXNET_ASSIGN_OR_RETURN(imported["prototxt"], FileRecord(r.prototxt));
  ALEXNET_ASSIGN_OR_RETURN(imported["weights"], FileRecord(r.weights));
  ALEXNET_ASSIGN_OR_RETURN(imported["labels"], FileRecord(r.labels));
  if (!r.mean_file.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(imported["mean_file"], FileRecord(r.mean_file));
  } else {
    imported["mean_bgr"] = *r.mean_bgr;
  }
  ALEXNET_ASSIGN_OR_RETURN(const std::string labels_text, ReadFile(r.labels));
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<std::string> classes, ParseLabels(labels_text, r.labels));

  const fs::path run = fs::path(r.run_dir);
  if (run.has_parent_path()) ALEXNET_RETURN_IF_ERROR(MakeFolder(run.parent_path().string()));
  StagingFolder staging(r.run_dir + ".importing");
  fs::remove_all(staging.dir(), ec);  // left by an import that was killed
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

  const std::string best = staging.dir() + "/checkpoints/best";
  ALEXNET_RETURN_IF_ERROR(MakeFolder(best));
  out << "writing the checkpoint ..." << std::endl;
  ALEXNET_RETURN_IF_ERROR(WriteCheckpoint(reader_dir, manifest, config.model, best + "/model", &outcome.parameters));
  train::TrainState state;
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(best + "/state.json", train::ToJson(state).dump(2) + "\n"));
  ALEXNET_RETURN_IF_ERROR(data::SaveColorStats(stats, staging.dir() + "/color_stats.json"));
  std::string names;
  for (const std::string& c : classes) names += c + "\n";
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(staging.dir() + "/classes.txt", names));
  fs::remove_all(reader_dir, ec);
  outcome.writer_peak_kib = PeakResidentKiB();
  config.imported["peak_memory_mib"] = {{"reader", outcome.reader_peak_kib / 1024}, {"writer", outcome.writer_peak_kib / 1024}};
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(staging.dir() + "/config.json", train::ToJson(config).dump(2) + "\n"));
  fs::rename(staging.dir(), r.run_dir, ec);
  if (ec) return Status::Io(r.run_dir, "cannot rename " + staging.dir() + " to it: " + ec.message());
  staging.Keep();
  if (run.has_parent_path()) ALEXNET_RETURN_IF_ERROR(SyncDirectory(run.parent_path().string()));
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
