// alexnet-caffe-read: the half of `alexnet import caffe` that reads Caffe's files. It runs as its
// own process because OpenCV's DNN module (with Debian's protobuf) and TensorFlow (with its own)
// cannot share one (docs/tensorflow.md). It reads the network and its weights with OpenCV, checks
// them against the seed table, maps every parameter to our layout (mapping.h) and writes, into
// OUT (a folder of the run being staged, which the importer deletes when done):
//   parameters.f32   every parameter in the table's order, float32, native byte order
//   mean.f32         with --mean-file: the mean image, H x W x 3, RGB
//   manifest.json    what the two hold (names, shapes, offsets), the class count, the LRN
//                    constants, the Caffe layers as read, and this process's peak memory
// Exit status 0, or 1 with one line "alexnet-caffe-read: <file>: <reason>" on stderr.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "caffe/caffe_net.h"
#include "caffe/mean_file.h"
#include "util/files.h"

namespace {

using alexnet::Result;
using alexnet::Status;
namespace caffe = alexnet::caffe;

Status WriteFloats(std::ofstream& out, const std::vector<float>& v, const std::string& path) {
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!out) return Status::Io(path, "write failed (disk full?)");
  return Status::Ok();
}

Status Read(const std::string& prototxt, const std::string& weights, const std::string& mean_file,
            const std::string& out_dir) {
  nlohmann::json manifest;
  if (!mean_file.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(const std::string bytes, alexnet::ReadFile(mean_file));
    ALEXNET_ASSIGN_OR_RETURN(const caffe::CaffeMean mean, caffe::ParseMeanFile(bytes, mean_file));
    const std::string path = out_dir + "/mean.f32";
    std::ofstream out(path, std::ios::binary);
    ALEXNET_RETURN_IF_ERROR(WriteFloats(out, mean.rgb_hwc, path));
    manifest["mean"] = {{"height", mean.height}, {"width", mean.width}, {"file", "mean.f32"}};
  }
  const std::string path = out_dir + "/parameters.f32";
  std::ofstream out(path, std::ios::binary);
  if (!out) return Status::Io(path, "cannot create the file");
  nlohmann::json params = nlohmann::json::array();
  int64_t offset = 0;
  const caffe::ParameterSink sink = [&](const std::string& name, const caffe::Array& a) -> Status {
    ALEXNET_RETURN_IF_ERROR(WriteFloats(out, a.values, path));
    params.push_back({{"name", name}, {"shape", a.shape}, {"offset", offset}});
    offset += a.Count();
    return Status::Ok();
  };
  ALEXNET_ASSIGN_OR_RETURN(const caffe::CaffeNetInfo info,
                           caffe::ReadCaffeAlexNet(caffe::CaffeFiles{prototxt, weights, "", ""}, sink));
  out.close();
  if (!out) return Status::Io(path, "write failed (disk full?)");
  const alexnet::model::LrnParams& lrn = info.model.lrn_params;
  manifest["parameters"] = params;
  manifest["parameters_file"] = "parameters.f32";
  manifest["num_classes"] = info.model.num_classes;
  manifest["lrn"] = {{"depth_radius", lrn.depth_radius}, {"bias", lrn.bias}, {"alpha", lrn.alpha}, {"beta", lrn.beta}};
  manifest["caffe_layers"] = info.layers;
  manifest["groups"] = info.groups;
  manifest["peak_rss_kib"] = alexnet::PeakResidentKiB();
  return alexnet::WriteFileAtomic(out_dir + "/manifest.json", manifest.dump(1) + "\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Reads Caffe's AlexNet for `alexnet import caffe` (run by it; not meant to be called by hand)"};
  std::string prototxt, weights, mean_file, out_dir;
  app.add_option("--prototxt", prototxt, "network description (deploy.prototxt)")->required();
  app.add_option("--weights", weights, "weights (.caffemodel)")->required();
  app.add_option("--mean-file", mean_file, "mean image (.binaryproto)");
  app.add_option("--out", out_dir, "existing folder to write into")->required();
  CLI11_PARSE(app, argc, argv);
  // OpenCV logs what it throws; the exception's message is ours to report, once.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  const Status st = Read(prototxt, weights, mean_file, out_dir);
  if (st.ok()) return 0;
  std::cerr << "alexnet-caffe-read: " << st.message() << "\n";
  return 1;
}
