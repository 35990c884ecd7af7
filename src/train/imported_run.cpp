#include "train/imported_run.h"

#include <filesystem>
#include <fstream>
#include <utility>

#include <openssl/evp.h>
#include <tensorflow/core/platform/env.h>
#include <tensorflow/core/util/tensor_bundle/tensor_bundle.h>

#include "model/tf_status.h"
#include "train/train_state.h"
#include "util/files.h"

namespace alexnet::train {

namespace fs = std::filesystem;

Result<ImportStaging> ImportStaging::Begin(const std::string& run_dir) {
  std::error_code ec;
  if (fs::exists(run_dir, ec)) {
    return Status::BadInput(run_dir, "exists already; the import writes a new run folder (remove it or choose another --run)");
  }
  const fs::path run(run_dir);
  if (run.has_parent_path()) ALEXNET_RETURN_IF_ERROR(MakeFolder(run.parent_path().string()));
  ImportStaging staging(run_dir, run_dir + ".importing");
  fs::remove_all(staging.dir_, ec);  // left by an import that was killed
  ALEXNET_RETURN_IF_ERROR(MakeFolder(staging.dir_));
  return staging;
}

ImportStaging::ImportStaging(ImportStaging&& other) noexcept
    : run_dir_(std::move(other.run_dir_)), dir_(std::move(other.dir_)), finished_(other.finished_) {
  other.finished_ = true;  // the moved-from object removes nothing
}

ImportStaging::~ImportStaging() {
  if (finished_) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

namespace {

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

}  // namespace

// {"file": name, "bytes": size, "sha256": ...} of an input file (path as given in "path").
Result<nlohmann::json> ImportedFileRecord(const std::string& path) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) return Status::Error(ErrnoCode(ec.value()), path, "cannot read: " + ec.message());
  ALEXNET_ASSIGN_OR_RETURN(const std::string sha, Sha256(path));
  return nlohmann::json{{"path", path}, {"file", fs::path(path).filename().string()}, {"bytes", bytes}, {"sha256", sha}};
}

std::vector<std::pair<std::string, std::vector<int64_t>>> ParameterShapes(const std::vector<model::LayerShape>& shapes) {
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

Result<int64_t> ImportStaging::WriteCheckpoint(const model::ModelOptions& model, const ParameterValue& value) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<model::LayerShape> shapes, model::ComputeLayerShapes(model));
  const std::string best = dir_ + "/checkpoints/best";
  ALEXNET_RETURN_IF_ERROR(MakeFolder(best));
  const std::string prefix = best + "/model";
  tensorflow::BundleWriter writer(tensorflow::Env::Default(), prefix);
  ALEXNET_RETURN_IF_ERROR(model::FromTf(writer.status(), prefix));
  int64_t count = 0;
  for (const auto& [name, shape] : ParameterShapes(shapes)) {
    tensorflow::Tensor t(tensorflow::DT_FLOAT, tensorflow::TensorShape(shape));
    ALEXNET_RETURN_IF_ERROR(value(name, &t));
    ALEXNET_RETURN_IF_ERROR(model::FromTf(writer.Add(name, t), prefix));
    count += t.NumElements();
  }
  ALEXNET_RETURN_IF_ERROR(model::FromTf(writer.Finish(), prefix));
  return count;
}

Status ImportStaging::Finish(const TrainConfig& config, const std::vector<std::string>& classes,
                             const data::ColorStats& stats) {
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/checkpoints/best/state.json", ToJson(TrainState{}).dump(2) + "\n"));
  ALEXNET_RETURN_IF_ERROR(data::SaveColorStats(stats, dir_ + "/color_stats.json"));
  std::string names;
  for (const std::string& c : classes) names += c + "\n";
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/classes.txt", names));
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/config.json", ToJson(config).dump(2) + "\n"));
  std::error_code ec;
  fs::rename(dir_, run_dir_, ec);
  if (ec) return Status::Io(run_dir_, "cannot rename " + dir_ + " to it: " + ec.message());
  finished_ = true;
  const fs::path run(run_dir_);
  return run.has_parent_path() ? SyncDirectory(run.parent_path().string()) : Status::Ok();
}

}  // namespace alexnet::train
