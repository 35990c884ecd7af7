// Runs a frozen AlexNet graph with OpenCV's DNN module, in a process of its own: OpenCV's DNN
// links Debian's libprotobuf while TensorFlow exports its own protobuf symbols, and the two
// cannot share a process. Preprocesses each image exactly as `alexnet predict` does (with the
// run's colour statistics) and prints one line of probabilities per image.
//   opencv_dnn_probe GRAPH.pb COLOR_STATS.json RESIZE CROP IMAGE...
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <opencv2/dnn.hpp>

#include "data/color_stats.h"
#include "data/decode.h"
#include "data/preprocess.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s GRAPH.pb COLOR_STATS.json RESIZE CROP IMAGE...\n", argv[0]);
    return 2;
  }
  namespace data = alexnet::data;
  auto stats = data::LoadColorStats(argv[2]);
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", stats.status().message().c_str());
    return 1;
  }
  data::PreprocessOptions pre;
  pre.resize = std::atoi(argv[3]);
  pre.crop = std::atoi(argv[4]);
  auto norm = data::MakeNormalization(&stats.value(), pre);
  if (!norm.ok()) {
    std::fprintf(stderr, "%s\n", norm.status().message().c_str());
    return 1;
  }
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(argv[1]);
  const int c = pre.crop;
  for (int i = 5; i < argc; ++i) {
    cv::Mat rgb;
    if (alexnet::Status st = data::DecodeImageFile(argv[i], {}, rgb); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    std::vector<float> input(size_t(c) * c * 3);
    if (alexnet::Status st = data::PreprocessEval(rgb, pre, norm.value(), input.data()); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    // An NHWC image as an NCHW blob; OpenCV's TensorFlow importer converts layouts itself.
    const cv::Mat hwc(c, c, CV_32FC3, input.data());
    net.setInput(cv::dnn::blobFromImage(hwc));
    const cv::Mat probs = net.forward();
    for (size_t k = 0; k < probs.total(); ++k) std::printf("%s%.8f", k ? " " : "", probs.ptr<float>()[k]);
    std::printf("\n");
  }
  return 0;
}
